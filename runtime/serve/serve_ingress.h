/*
 * The Serve ingress: an HTTP server (libmicrohttpd) whose requests go to
 * the route table's deployments. One per process, started by
 * manta_serve_start (embedded) or `manta start --http-port` (a node).
 *
 * A request does not hold a thread while its target runs: the connection
 * is suspended once the call is submitted and resumed by the result's
 * ready callback (serve_runtime.h), or by the timeout sweep. One polling
 * thread serves every connection; the work runs on the runtime's workers.
 */
#ifndef MT_SERVE_INGRESS_H
#define MT_SERVE_INGRESS_H

#include "http.h"
#include "manta.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct mt_serve_config {
  const char *host;  /* NULL: 127.0.0.1 */
  int port;          /* 0: any free port */
  const char *token; /* required on /-/ admin requests when set */
  size_t max_body;   /* bytes; 0: the default (1 MiB) */
  mt_http_tls tls;   /* HTTPS with this certificate and key (PEM text) when
                        both are set: the node's, in a TLS cluster */
} mt_serve_config;

manta_err mt_serve_ingress_start(const mt_serve_config *cfg, char *why,
                                 size_t why_size);
/* The port served, or -1 when no ingress runs. */
int mt_serve_ingress_port(void);
/* Whether the ingress running speaks HTTPS. */
bool mt_serve_ingress_tls(void);
/* Answers the requests waiting with 503 (the runtime is going), stops
 * listening, frees everything. Nothing when none runs. */
void mt_serve_ingress_stop(void);

#endif
