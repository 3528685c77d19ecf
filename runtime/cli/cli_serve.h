/*
 * The manta command's Serve part: `manta serve deploy FILE | status |
 * delete ROUTE` (an HTTP client of the ingress's admin routes) and the
 * ingress a node starts (`manta start --http-port`, on the head by
 * default). docs/serve.md, "In a cluster".
 */
#ifndef MANTA_CLI_SERVE_H
#define MANTA_CLI_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_SERVE_DEFAULT_PORT 8000
#define CLI_SERVE_PORT_UNSET (-2)
#define CLI_SERVE_PORT_OFF (-1)

/* `manta serve ARGS...` (argv after "serve"); the exit status. */
int cli_serve_main(int argc, char **argv);

/* The value of --http-port: a port (0 any free), CLI_SERVE_PORT_OFF for
 * "off"; exits with a message for anything else. */
int cli_serve_parse_port(const char *value);

/*
 * After manta_init: starts the node's ingress on bind_host. http_port
 * CLI_SERVE_PORT_UNSET: the head serves on 8000 (a taken port is only
 * warned about), other nodes serve none. token: the one the node was
 * given, else found as the library finds it; the admin routes require
 * it. tls: the node has a certificate, so the ingress speaks HTTPS.
 * Writes " serve URL" (or "") to out; false with why when a port asked
 * for cannot be served.
 */
bool cli_serve_node_start(bool head, int http_port, const char *bind_host,
                          const char *token, bool tls, char *out, size_t size,
                          char *why, size_t why_size);

#endif
