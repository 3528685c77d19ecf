/* The manta.h façade of Serve: options and deployments by setters, turned
 * into the ingress's config and the route table's specs. */
#include "cluster.h"
#include "manta.h"
#include "serve_ingress.h"
#include "serve_routes.h"
#include "serve_sync.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

#define MANTA_SERVE_DEFAULT_PORT 8000

struct manta_serve_options {
  char *host;
  char *token;
  int port;
  size_t max_body;
};

struct manta_deployment {
  mt_serve_spec spec;
};

manta_err manta_serve_options_new(manta_serve_options **out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  *out = calloc(1, sizeof **out);
  if (!*out) {
    return MANTA_ERR_NOMEM;
  }
  (*out)->port = MANTA_SERVE_DEFAULT_PORT;
  return MANTA_OK;
}

void manta_serve_options_free(manta_serve_options *opts) {
  if (opts) {
    free(opts->host);
    if (opts->token) {
      memset(opts->token, 0, strlen(opts->token));
      free(opts->token);
    }
    free(opts);
  }
}

manta_err manta_serve_options_set_host(manta_serve_options *opts,
                                       const char *host) {
  if (!opts || !host || !*host) {
    return MANTA_ERR_INVALID;
  }
  char *h = strdup(host);
  if (!h) {
    return MANTA_ERR_NOMEM;
  }
  free(opts->host);
  opts->host = h;
  return MANTA_OK;
}

manta_err manta_serve_options_set_token(manta_serve_options *opts,
                                        const char *token) {
  if (!opts) {
    return MANTA_ERR_INVALID;
  }
  char *t = token && *token ? strdup(token) : NULL;
  if (token && *token && !t) {
    return MANTA_ERR_NOMEM;
  }
  if (opts->token) {
    memset(opts->token, 0, strlen(opts->token));
    free(opts->token);
  }
  opts->token = t;
  return MANTA_OK;
}

manta_err manta_serve_options_set_port(manta_serve_options *opts, int port) {
  if (!opts || port < 0 || port > 65535) {
    return MANTA_ERR_INVALID;
  }
  opts->port = port;
  return MANTA_OK;
}

manta_err manta_serve_options_set_max_body(manta_serve_options *opts,
                                           size_t bytes) {
  if (!opts || bytes == 0) {
    return MANTA_ERR_INVALID;
  }
  opts->max_body = bytes;
  return MANTA_OK;
}

manta_err manta_serve_start(const manta_serve_options *opts) {
  if (!manta_is_initialized()) {
    return MANTA_ERR_NOT_INITIALIZED;
  }
  mt_serve_config cfg = {
      .host = opts ? opts->host : NULL,
      .token = opts ? opts->token : NULL,
      .port = opts ? opts->port : MANTA_SERVE_DEFAULT_PORT,
      .max_body = opts ? opts->max_body : 0,
  };
  /* One HTTP stack, one TLS rule (design decision 14): in a TLS cluster
   * the ingress speaks HTTPS with the node's certificate, as /metrics
   * does, and refuses clear text. mt_cl's files live until shutdown,
   * which stops the ingress first. */
  if (mt_cl.on) {
    cfg.tls.cert = mt_cl.tp_tls.cert;
    cfg.tls.key = mt_cl.tp_tls.key;
  }
  char why[512];
  manta_err err = mt_serve_ingress_start(&cfg, why, sizeof why);
  if (err != MANTA_OK) {
    mt_log(MT_LOG_ERROR, "serve: %s", why);
  } else {
    mt_serve_sync_start(); /* in a cluster: share routes with every ingress */
  }
  return err;
}

manta_err manta_serve_port(int *port) {
  if (!port) {
    return MANTA_ERR_INVALID;
  }
  *port = mt_serve_ingress_port();
  return *port < 0 ? MANTA_ERR_NOT_FOUND : MANTA_OK;
}

manta_err manta_serve_stop(void) {
  if (mt_serve_ingress_port() < 0) {
    return MANTA_ERR_NOT_FOUND;
  }
  mt_serve_sync_stop();
  mt_serve_ingress_stop();
  return MANTA_OK;
}

manta_err manta_deployment_new(const char *route, manta_deployment **out) {
  if (!out || !route || route[0] != '/') {
    return MANTA_ERR_INVALID;
  }
  manta_deployment *d = calloc(1, sizeof *d);
  if (!d || !(d->spec.route = strdup(route))) {
    free(d);
    return MANTA_ERR_NOMEM;
  }
  d->spec.replicas = 1;
  *out = d;
  return MANTA_OK;
}

void manta_deployment_free(manta_deployment *d) {
  if (d) {
    mt_serve_spec_clear(&d->spec);
    free(d);
  }
}

/* Replaces *field with a copy of s (NULL allowed when may_clear). */
static manta_err set_text(char **field, const char *s) {
  char *copy = NULL;
  if (s && !(copy = strdup(s))) {
    return MANTA_ERR_NOMEM;
  }
  free(*field);
  *field = copy;
  return MANTA_OK;
}

manta_err manta_deployment_set_function(manta_deployment *d, const char *name) {
  if (!d || !name || !*name) {
    return MANTA_ERR_INVALID;
  }
  manta_err err = set_text(&d->spec.function, name);
  if (err == MANTA_OK) {
    set_text(&d->spec.cls, NULL);
    set_text(&d->spec.method, NULL);
  }
  return err;
}

manta_err manta_deployment_set_class(manta_deployment *d,
                                     const char *class_name,
                                     const char *method) {
  if (!d || !class_name || !*class_name || (method && !*method)) {
    return MANTA_ERR_INVALID;
  }
  char *cls = strdup(class_name), *m = method ? strdup(method) : NULL;
  if (!cls || (method && !m)) {
    free(cls), free(m);
    return MANTA_ERR_NOMEM;
  }
  set_text(&d->spec.function, NULL);
  free(d->spec.cls), free(d->spec.method);
  d->spec.cls = cls, d->spec.method = m;
  return MANTA_OK;
}

manta_err manta_deployment_set_replicas(manta_deployment *d,
                                        unsigned replicas) {
  if (!d || replicas == 0 || replicas > 1000) {
    return MANTA_ERR_INVALID;
  }
  d->spec.replicas = replicas;
  return MANTA_OK;
}

manta_err manta_deployment_set_max_ongoing_requests(manta_deployment *d,
                                                    unsigned max) {
  if (!d || max == 0) {
    return MANTA_ERR_INVALID;
  }
  d->spec.max_ongoing = max;
  return MANTA_OK;
}

manta_err manta_deployment_set_timeout(manta_deployment *d,
                                       int64_t timeout_ms) {
  if (!d || timeout_ms <= 0) {
    return MANTA_ERR_INVALID;
  }
  d->spec.timeout_ms = timeout_ms;
  return MANTA_OK;
}

manta_err manta_deployment_set_autoscaling(manta_deployment *d,
                                           unsigned min_replicas,
                                           unsigned max_replicas,
                                           unsigned target_ongoing) {
  if (!d || min_replicas < 1 || min_replicas > max_replicas ||
      max_replicas > 1000) {
    return MANTA_ERR_INVALID;
  }
  d->spec.min_replicas = min_replicas;
  d->spec.max_replicas = max_replicas;
  d->spec.target_ongoing = target_ongoing;
  return MANTA_OK;
}

manta_err manta_deployment_set_idempotent(manta_deployment *d, int idempotent) {
  if (!d) {
    return MANTA_ERR_INVALID;
  }
  d->spec.idempotent = idempotent != 0;
  return MANTA_OK;
}

manta_err manta_deployment_set_health_check(manta_deployment *d,
                                            const char *method,
                                            int64_t period_ms,
                                            int64_t timeout_ms) {
  if (!d || (method && !*method) || period_ms < 0 || timeout_ms < 0) {
    return MANTA_ERR_INVALID;
  }
  manta_err err = set_text(&d->spec.health_method, method);
  if (err == MANTA_OK) {
    d->spec.health_period_ms = period_ms;
    d->spec.health_timeout_ms = timeout_ms;
  }
  return err;
}

manta_err manta_deployment_set_resource(manta_deployment *d, const char *name,
                                        double qty) {
  if (!d) {
    return MANTA_ERR_INVALID;
  }
  return mt_serve_spec_set_resource(&d->spec, name, qty);
}

manta_err manta_deployment_set_args(manta_deployment *d,
                                    const manta_value *const *args,
                                    size_t nargs) {
  if (!d || (nargs && !args)) {
    return MANTA_ERR_INVALID;
  }
  manta_value *list = nargs ? manta_list() : NULL;
  if (nargs && !list) {
    return MANTA_ERR_NOMEM;
  }
  for (size_t i = 0; i < nargs; i++) {
    if (!args[i] ||
        manta_list_push(list, manta_value_ref((manta_value *)args[i])) !=
            MANTA_OK) {
      manta_value_free(list);
      return args[i] ? MANTA_ERR_NOMEM : MANTA_ERR_INVALID;
    }
  }
  manta_value_free(d->spec.init_args);
  d->spec.init_args = list;
  return MANTA_OK;
}

manta_err manta_serve_deploy(const manta_deployment *d) {
  if (!d) {
    return MANTA_ERR_INVALID;
  }
  if (!manta_is_initialized()) {
    return MANTA_ERR_NOT_INITIALIZED;
  }
  char why[512];
  mt_serve_spec spec;
  manta_err err = mt_serve_spec_check(&d->spec, &spec, why, sizeof why);
  if (err == MANTA_OK) {
    err = mt_serve_sync_put(&spec, why, sizeof why);
  }
  if (err != MANTA_OK) {
    mt_log(MT_LOG_ERROR, "serve: %s", why);
  }
  return err;
}

manta_err manta_serve_delete(const char *route) {
  if (!route) {
    return MANTA_ERR_INVALID;
  }
  return mt_serve_sync_delete(route);
}

manta_err manta_serve_status(manta_value **out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  *out = mt_serve_routes_status();
  return *out ? MANTA_OK : MANTA_ERR_NOMEM;
}

void mt_serve_shutdown(void) {
  mt_serve_sync_stop();
  mt_serve_ingress_stop();
  mt_serve_routes_clear();
}
