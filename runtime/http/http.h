/*
 * The node's one HTTP server (design decision 14): a listener and a table
 * of routes. /metrics is the first route; the dashboard and Serve register
 * theirs the same way. Served by libmicrohttpd on one internal thread
 * (docs/observability.md says why). Same rules as the gRPC server: a bind
 * beyond loopback needs the cluster token, and then every request must
 * carry it (`Authorization: Bearer TOKEN`), else 401.
 */
#ifndef MT_HTTP_H
#define MT_HTTP_H

#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct mt_http_server mt_http_server;

/* What a handler answers: status, content type and a malloc'd body that
 * the server frees once sent. */
typedef struct mt_http_reply {
  int status;
  const char *content_type; /* static */
  char *body;
  size_t len;
} mt_http_reply;

/* Answers one GET (or HEAD) of the route's path. Runs on the server's
 * thread: it must not block for long. */
typedef void (*mt_http_handler)(void *arg, mt_http_reply *reply);

/* HTTPS: the node's certificate and key (PEM text), the same the cluster's
 * gRPC links use. Clients are authenticated by the token, not by a
 * certificate. */
typedef struct mt_http_tls {
  const char *cert;
  const char *key;
} mt_http_tls;

/*
 * Starts a server on host:port (port 0: any free one). token: required on
 * every request when set (NULL: none asked). tls: HTTPS when it has a
 * certificate and key (NULL: plain HTTP). false with why (the address and
 * the cause: port taken, host unknown, a certificate refused) when it
 * cannot listen.
 */
mt_http_server *mt_http_start(const char *host, int port, const char *token,
                              const mt_http_tls *tls, char *why,
                              size_t why_size);
/* The port it listens on. */
int mt_http_port(const mt_http_server *s);
/* "https" or "http". */
const char *mt_http_scheme(const mt_http_server *s);
/* Adds a route for an exact path; false if the table is full or the path
 * is taken. Routes may be added while the server runs. */
bool mt_http_route(mt_http_server *s, const char *path, mt_http_handler fn,
                   void *arg);
/* What a browser gets instead of a bare 401 when the token is asked and
 * missing: a page (static, kept by the caller) that asks for it and keeps
 * it in the cookie manta_token, which the server accepts as it accepts
 * the header. */
void mt_http_set_login_page(mt_http_server *s, const char *html, size_t len);
/* Stops listening, waits for the handlers running, frees the server. */
void mt_http_stop(mt_http_server *s);

/* A listening socket on host:port (also for Serve's ingress), or -1 with
 * why naming the cause (port taken, host unknown). */
int mt_http_listen(const char *host, int port, char *why, size_t why_size);
/* The port a bound socket has, or -1. */
int mt_http_bound_port(int fd);

/* How a libmicrohttpd daemon's messages reach manta's log: the level and
 * the prefix that names the server. Static; given as the logger's arg. */
typedef struct mt_http_log_as {
  mt_log_level level;
  const char *prefix;
} mt_http_log_as;
/* The MHD_OPTION_EXTERNAL_LOGGER of every manta daemon (arg: a const
 * mt_http_log_as *): one line per message, without its newline. */
void mt_http_mhd_log(void *arg, const char *fmt, va_list ap);

/* Whether an Authorization header value carries token (constant time). */
bool mt_http_bearer_ok(const char *header, const char *token);

#endif
