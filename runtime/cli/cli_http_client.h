/*
 * The manta command's HTTP client: one HTTP/1.1 request per call, over a
 * plain socket or over TLS (GnuTLS, the library libmicrohttpd serves
 * HTTPS with). Used by `manta serve` to reach the ingress's admin routes.
 */
#ifndef MANTA_CLI_HTTP_CLIENT_H
#define MANTA_CLI_HTTP_CLIENT_H

#include <stddef.h>

/* One request to hostport ("HOST:PORT"). ca: NULL for plain HTTP, else
 * the PEM file of the CA the server's certificate must chain to (and name
 * `manta`, as every manta link checks: docs/security.md). token: "" for
 * none. The status, with *reply the malloc'd body; -1 with why when no
 * HTTP answer came (a refused connection, a failed handshake). */
int cli_http_call(const char *hostport, const char *ca, const char *method,
                  const char *path, const char *token, const char *type,
                  const char *body, size_t len, char **reply, char *why,
                  size_t why_size);

#endif
