/*
 * The HTTP server of this node: started by manta_init when metrics are
 * asked for (an option, MANTA_METRICS_PORT, `manta start`), stopped first
 * by manta_shutdown. It serves /metrics; later routes (dashboard, Serve)
 * register on the same server.
 */
#include "node_http.h"
#include "api_routes.h"
#include "cluster.h"
#include "http.h"
#include "local_state.h"
#include "loopback.h"
#include "metrics.h"
#include "rt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t node_mu = PTHREAD_MUTEX_INITIALIZER;
static mt_http_server *node_server; /* node_mu */

static void serve_metrics(void *arg, mt_http_reply *reply) {
  (void)arg;
  mt_metrics m;
  if (!mt_metrics_collect(&m)) {
    reply->status = 503;
    reply->body = strdup("503 the runtime is not running\n");
    reply->len = reply->body ? strlen(reply->body) : 0;
    return;
  }
  reply->body = mt_metrics_render(&m, &reply->len);
  reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
  mt_metrics_free(&m);
}

/* The port asked for: the option, else MANTA_METRICS_PORT; -1 for none. */
static bool wanted_port(const manta_options *opts, int *port) {
  *port = opts ? opts->metrics_port : -1;
  const char *env = getenv("MANTA_METRICS_PORT");
  if (*port >= 0 || !env || !*env) {
    return true;
  }
  char *end;
  errno = 0;
  long v = strtol(env, &end, 10);
  if (errno || *end || v < 0 || v > 65535) {
    mt_log(MT_LOG_ERROR,
           "MANTA_METRICS_PORT='%s' is not a port (0 to 65535, 0: any free "
           "port)",
           env);
    return false;
  }
  *port = (int)v;
  return true;
}

/* The token requests must carry: none on loopback; beyond it the cluster's
 * (or, embedded, one given on purpose). false: serving is refused. */
static bool token_for(const manta_options *opts, const char *bind,
                      char **token) {
  *token = NULL;
  if (mt_bind_is_loopback(bind, NULL)) {
    return true;
  }
  char why[1200] = "", source[300];
  mt_token_origin origin = MT_TOKEN_NONE;
  if (mt_cl.on && mt_cl.token) {
    *token = strdup(mt_cl.token); /* checked by the cluster's start */
    return *token != NULL;
  }
  if (!mt_token_resolve(opts ? opts->token : NULL, false, token, &origin,
                        source, sizeof source, why, sizeof why) ||
      origin != MT_TOKEN_GIVEN) {
    mt_log(MT_LOG_ERROR,
           "http: serving metrics on %s (not loopback) needs a cluster token "
           "given on purpose (manta_options_set_token, MANTA_TOKEN or "
           "MANTA_TOKEN_FILE)%s%s",
           bind, why[0] ? ": " : "", why);
    free(*token);
    *token = NULL;
    return false;
  }
  return true;
}

manta_err mt_node_http_start(const manta_options *opts) {
  int port;
  if (!wanted_port(opts, &port)) {
    return MANTA_ERR_INVALID;
  }
  if (port < 0) {
    return MANTA_OK;
  }
  const char *bind = opts && opts->bind ? opts->bind : "127.0.0.1:0";
  char host[256];
  const char *colon = strrchr(bind, ':');
  snprintf(host, sizeof host, "%.*s",
           (int)(colon ? (size_t)(colon - bind) : strlen(bind)), bind);
  char *token;
  if (!token_for(opts, bind, &token)) {
    return MANTA_ERR_INVALID;
  }
  char why[512];
  /* In a TLS cluster the port speaks HTTPS with the node's certificate:
   * what it serves, and the token on it, are not sent in clear text. */
  mt_http_tls tls = {NULL, NULL};
  if (mt_cl.on) {
    tls.cert = mt_cl.tp_tls.cert;
    tls.key = mt_cl.tp_tls.key;
  }
  mt_http_server *s = mt_http_start(host, port, token, &tls, why, sizeof why);
  if (token) {
    memset(token, 0, strlen(token));
    free(token);
  }
  if (!s) {
    mt_log(MT_LOG_ERROR, "http: %s", why);
    return MANTA_ERR_INVALID;
  }
  if (!mt_http_route(s, "/metrics", serve_metrics, NULL) ||
      !mt_api_routes_add(s)) { /* the dashboard and its API */
    mt_http_stop(s);
    return MANTA_ERR_NOMEM;
  }
  pthread_mutex_lock(&node_mu);
  node_server = s;
  pthread_mutex_unlock(&node_mu);
  mt_lock();
  if (mt_rt.cluster) {
    /* The node registered before its HTTP server existed: what it
     * advertises (NodeInfo.metrics_address) changed, so it registers
     * again, as when a function is added. */
    mt_rt.registry_version++;
    mt_rt.cluster->registry_changed_locked();
  }
  mt_unlock();
  mt_log(MT_LOG_INFO, "http: serving /metrics on %s://%s:%d", mt_http_scheme(s),
         host, mt_http_port(s));
  return MANTA_OK;
}

void mt_node_http_stop(void) {
  pthread_mutex_lock(&node_mu);
  mt_http_server *s = node_server;
  node_server = NULL;
  pthread_mutex_unlock(&node_mu);
  mt_http_stop(s); /* waits for a scrape under way (it takes rt.mu) */
}

manta_err manta_metrics_port(int *port) {
  if (!port) {
    return MANTA_ERR_INVALID;
  }
  pthread_mutex_lock(&node_mu);
  manta_err err = MANTA_ERR_NOT_FOUND;
  if (node_server) {
    *port = mt_http_port(node_server);
    err = MANTA_OK;
  }
  pthread_mutex_unlock(&node_mu);
  return err;
}
