/* Options objects: what manta_init and each call may be told. Setters check
 * their input, so a bad option fails where it is set. */
#include "local_state.h"
#include "rt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool valid_qty(double q) {
  return isfinite(q) && q >= 0;
}

/* Sets or replaces one named quantity. */
static manta_err request_set(mt_resource_request *r, const char *name,
                             double qty) {
  if (!name || !name[0] || strlen(name) >= sizeof r->names[0] ||
      !valid_qty(qty)) {
    return MANTA_ERR_INVALID;
  }
  for (int i = 0; i < r->n; i++) {
    if (strcmp(r->names[i], name) == 0) {
      r->qty[i] = qty;
      return MANTA_OK;
    }
  }
  /* 15 custom ones: a request adds "CPU" and, in a placement group, the
   * bundle's marker. */
  if (r->n >= MT_MAX_REQUEST - 3) {
    return MANTA_ERR_RANGE;
  }
  strcpy(r->names[r->n], name);
  r->qty[r->n++] = qty;
  return MANTA_OK;
}

manta_err manta_options_new(manta_options **out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  manta_options *o = calloc(1, sizeof *o);
  if (!o) {
    return MANTA_ERR_NOMEM;
  }
  o->num_cpus = -1;
  o->insecure = -1;
  o->metrics_port = -1;
  o->store_memory = -1;
  o->store_full_ms = -1;
  *out = o;
  return MANTA_OK;
}

void manta_options_free(manta_options *opts) {
  if (opts) {
    free(opts->address);
    free(opts->bind);
    free(opts->token);
    free(opts->spill_dir);
    free(opts->head_store);
    free(opts->cluster_name);
    mt_tls_free(&opts->tls);
    for (size_t i = 0; i < opts->nmodules; i++) {
      free(opts->modules[i]);
    }
    free(opts->modules);
    free(opts);
  }
}

manta_err manta_options_set_num_cpus(manta_options *opts, double num_cpus) {
  if (!opts || !valid_qty(num_cpus)) {
    return MANTA_ERR_INVALID;
  }
  opts->num_cpus = num_cpus;
  return MANTA_OK;
}

/* Replaces *field with a copy of value (NULL clears it). */
static manta_err set_string(char **field, const char *value) {
  char *copy = NULL;
  if (value && !(copy = strdup(value))) {
    return MANTA_ERR_NOMEM;
  }
  free(*field);
  *field = copy;
  return MANTA_OK;
}

manta_err manta_options_set_address(manta_options *opts, const char *address) {
  if (!opts || (address && !strchr(address, ':'))) {
    return MANTA_ERR_INVALID; /* HOST:PORT, or NULL for embedded */
  }
  return set_string(&opts->address, address);
}

manta_err manta_options_set_object_store_memory(manta_options *opts,
                                                uint64_t bytes) {
  if (!opts || bytes > INT64_MAX) {
    return MANTA_ERR_INVALID;
  }
  opts->store_memory = (int64_t)bytes;
  return MANTA_OK;
}

manta_err manta_options_set_spill_dir(manta_options *opts, const char *path) {
  if (!opts || (path && !*path)) {
    return MANTA_ERR_INVALID;
  }
  return set_string(&opts->spill_dir, path);
}

manta_err manta_options_set_head_store(manta_options *opts, const char *url,
                                       const char *cluster_name) {
  if (!opts || (url && !*url) || (cluster_name && !*cluster_name)) {
    return MANTA_ERR_INVALID;
  }
  manta_err err = set_string(&opts->head_store, url);
  return err != MANTA_OK ? err : set_string(&opts->cluster_name, cluster_name);
}

manta_err manta_options_set_object_store_full_timeout(manta_options *opts,
                                                      int64_t timeout_ms) {
  if (!opts || timeout_ms < 0) {
    return MANTA_ERR_INVALID;
  }
  opts->store_full_ms = timeout_ms;
  return MANTA_OK;
}

manta_err manta_options_set_role(manta_options *opts, manta_role role) {
  if (!opts || (role != MANTA_ROLE_DRIVER && role != MANTA_ROLE_NODE &&
                role != MANTA_ROLE_HEAD)) {
    return MANTA_ERR_INVALID;
  }
  opts->role = (int)role;
  return MANTA_OK;
}

manta_err manta_options_set_bind(manta_options *opts, const char *host_port) {
  if (!opts || (host_port && !strchr(host_port, ':'))) {
    return MANTA_ERR_INVALID;
  }
  return set_string(&opts->bind, host_port);
}

manta_err manta_options_set_metrics_port(manta_options *opts, int port) {
  if (!opts || port < -1 || port > 65535) {
    if (opts) {
      mt_log(MT_LOG_ERROR,
             "bad metrics port %d: 0 to 65535 (0: any free port), or -1 "
             "for none",
             port);
    }
    return MANTA_ERR_INVALID;
  }
  opts->metrics_port = port;
  return MANTA_OK;
}

manta_err manta_options_set_token(manta_options *opts, const char *token) {
  if (!opts) {
    return MANTA_ERR_INVALID;
  }
  char why[200];
  if (token && *token && !mt_token_valid(token, why, sizeof why)) {
    mt_log(MT_LOG_ERROR, "options: %s", why);
    return MANTA_ERR_INVALID;
  }
  return set_string(&opts->token, token && *token ? token : NULL);
}

manta_err manta_options_set_token_file(manta_options *opts, const char *path) {
  if (!opts || !path) {
    return MANTA_ERR_INVALID;
  }
  /* Read now, so a bad file fails where it is named. */
  char why[1200], *token = NULL;
  if (!mt_token_read_file(path, false, &token, why, sizeof why)) {
    mt_log(MT_LOG_ERROR, "options: %s", why);
    return MANTA_ERR_INVALID;
  }
  free(opts->token);
  opts->token = token;
  return MANTA_OK;
}

manta_err manta_options_set_tls(manta_options *opts, const char *cert_path,
                                const char *key_path, const char *ca_path) {
  if (!opts) {
    return MANTA_ERR_INVALID;
  }
  mt_tls tls = {0};
  /* Read now, so a bad file (a key others may read) fails where it is
   * named; all NULL turns TLS off. */
  char why[1400];
  if ((cert_path || key_path || ca_path) &&
      !mt_tls_load(cert_path, key_path, ca_path, &tls, why, sizeof why)) {
    mt_log(MT_LOG_ERROR, "options: %s", why);
    return MANTA_ERR_INVALID;
  }
  mt_tls_free(&opts->tls);
  opts->tls = tls;
  return MANTA_OK;
}

manta_err manta_options_set_insecure(manta_options *opts, int insecure) {
  if (!opts) {
    return MANTA_ERR_INVALID;
  }
  opts->insecure = insecure != 0;
  return MANTA_OK;
}

manta_err manta_options_add_module(manta_options *opts, const char *path) {
  if (!opts || !path || !*path) {
    return MANTA_ERR_INVALID;
  }
  char **grown = realloc(opts->modules, (opts->nmodules + 1) * sizeof *grown);
  if (!grown) {
    return MANTA_ERR_NOMEM;
  }
  opts->modules = grown;
  if (!(opts->modules[opts->nmodules] = strdup(path))) {
    return MANTA_ERR_NOMEM;
  }
  opts->nmodules++;
  return MANTA_OK;
}

manta_err manta_options_set_resource(manta_options *opts, const char *name,
                                     double qty) {
  if (!opts) {
    return MANTA_ERR_INVALID;
  }
  if (name && strcmp(name, "CPU") == 0) {
    return manta_options_set_num_cpus(opts, qty);
  }
  return request_set(&opts->resources, name, qty);
}

manta_err manta_options_set_max_workers(manta_options *opts,
                                        unsigned max_workers) {
  if (!opts || max_workers == 0) {
    return MANTA_ERR_INVALID;
  }
  opts->max_workers = max_workers;
  return MANTA_OK;
}

manta_err manta_call_options_new(manta_call_options **out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  manta_call_options *o = calloc(1, sizeof *o);
  if (!o) {
    return MANTA_ERR_NOMEM;
  }
  o->num_cpus = -1;
  o->pg_bundle = -1;
  o->max_retries = 3; /* MT_DEFAULT_MAX_RETRIES (task_context.h) */
  *out = o;
  return MANTA_OK;
}

void manta_call_options_free(manta_call_options *opts) {
  if (opts) {
    free(opts->name);
    free(opts);
  }
}

manta_err manta_call_options_set_num_cpus(manta_call_options *opts,
                                          double num_cpus) {
  if (!opts || !valid_qty(num_cpus)) {
    return MANTA_ERR_INVALID;
  }
  opts->num_cpus = num_cpus;
  return MANTA_OK;
}

manta_err manta_call_options_set_resource(manta_call_options *opts,
                                          const char *name, double qty) {
  if (!opts) {
    return MANTA_ERR_INVALID;
  }
  if (name && strcmp(name, "CPU") == 0) {
    return manta_call_options_set_num_cpus(opts, qty);
  }
  return request_set(&opts->resources, name, qty);
}

manta_err manta_call_options_set_name(manta_call_options *opts,
                                      const char *name) {
  if (!opts || !name || !name[0]) {
    return MANTA_ERR_INVALID;
  }
  char *copy = strdup(name);
  if (!copy) {
    return MANTA_ERR_NOMEM;
  }
  free(opts->name);
  opts->name = copy;
  return MANTA_OK;
}

manta_err manta_call_options_set_num_returns(manta_call_options *opts,
                                             size_t num_returns) {
  if (!opts || num_returns == 0 || num_returns > MT_MAX_RETURNS) {
    return MANTA_ERR_INVALID;
  }
  opts->num_returns = num_returns;
  return MANTA_OK;
}

manta_err manta_call_options_set_max_concurrency(manta_call_options *opts,
                                                 unsigned max_concurrency) {
  if (!opts || max_concurrency == 0) {
    return MANTA_ERR_INVALID;
  }
  opts->max_concurrency = max_concurrency;
  return MANTA_OK;
}

manta_err manta_call_options_set_max_restarts(manta_call_options *opts,
                                              int max_restarts) {
  if (!opts || max_restarts < -1) {
    return MANTA_ERR_INVALID;
  }
  opts->max_restarts = max_restarts;
  return MANTA_OK;
}

manta_err manta_call_options_set_max_task_retries(manta_call_options *opts,
                                                  int max_task_retries) {
  if (!opts || max_task_retries < -1) {
    return MANTA_ERR_INVALID;
  }
  opts->max_task_retries = max_task_retries;
  return MANTA_OK;
}

manta_err manta_call_options_set_strategy(manta_call_options *opts,
                                          manta_strategy strategy) {
  if (!opts || (strategy != MANTA_STRATEGY_DEFAULT &&
                strategy != MANTA_STRATEGY_SPREAD)) {
    return MANTA_ERR_INVALID; /* an affinity needs its node */
  }
  opts->placement = (mt_placement){(uint8_t)strategy, false, 0};
  return MANTA_OK;
}

/* A node id as manta_node_id writes it: 1 to 16 hex digits, not zero. */
static bool parse_node_id(const char *s, uint64_t *out) {
  uint64_t id = 0;
  size_t n = 0;
  for (; s[n]; n++) {
    char c = s[n];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0 || n >= 16) {
      return false;
    }
    id = id << 4 | (uint64_t)d;
  }
  *out = id;
  return n > 0 && id != 0;
}

manta_err manta_call_options_set_node_affinity(manta_call_options *opts,
                                               const char *node_id, int soft) {
  uint64_t node;
  if (!opts || !node_id || !parse_node_id(node_id, &node)) {
    return MANTA_ERR_INVALID;
  }
  opts->placement =
      (mt_placement){MANTA_STRATEGY_NODE_AFFINITY, soft != 0, node};
  return MANTA_OK;
}

manta_err manta_call_options_set_placement_group(manta_call_options *opts,
                                                 manta_placement_group pg,
                                                 int bundle_index) {
  if (!opts || pg.id == 0 || bundle_index < -1) {
    return MANTA_ERR_INVALID;
  }
  opts->pg = pg.id;
  opts->pg_bundle = bundle_index;
  return MANTA_OK;
}
