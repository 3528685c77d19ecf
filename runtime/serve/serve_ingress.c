/*
 * The ingress on libmicrohttpd (epoll), run by the pollers of
 * serve_pollers.c, which also run the calls the requests make (after the
 * loop, or inside the access handler for a route whose calls proved fast:
 * serve_inline.h); with suspend/resume so a request waits for its result
 * without a thread; a sweep thread answers 504 to requests past their
 * route's timeout.
 *
 * Locks: the runtime's lock (held by the ready callback) may be taken
 * inside `mu`, never the reverse, and the ready callback never takes `mu`:
 * it only stores the result, flips the state and resumes the connection.
 */
#include "serve_ingress.h"

#include "clock.h"
#include "http.h"
#include "log.h"
#include "serve_admin.h"
#include "serve_inline.h"
#include "serve_message.h"
#include "serve_pollers.h"
#include "serve_routes.h"
#include "serve_runtime.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (1024 * 1024)
/* Request line and headers of one connection must fit: more is 431. */
#define HEAD_LIMIT (32 * 1024)
#define MAX_CONNECTIONS 8192
/* A connection silent this long (a stalled or slow client, an idle
 * keep-alive) is closed; a suspended one waits for its result instead. */
#define IDLE_TIMEOUT_S 30
#define SWEEP_MS 20

enum { R_NEW, R_WAITING, R_DONE };

typedef struct request {
  struct request *next, *prev; /* the waiting list, under mu */
  bool listed;
  struct MHD_Connection *conn;
  mt_serve_dep *dep;
  int replica;    /* -1: no slot taken */
  uint64_t actor; /* the replica's actor the call went to (0: none yet) */
  bool admin;
  char *body;
  size_t len, cap;
  bool too_big;
  _Atomic int state;
  mt_serve_wait wait;
  manta_value *result;
  /* The handler and the ready callback (or a give-up) each add 1 once
   * done with the connection (suspended it / stored the result): the
   * second resumes it. A request answered inline is never suspended. */
  _Atomic int handoff;
  int64_t submit_ns, ready_ns; /* for the inline policy */
  int64_t deadline_ms;         /* 0: none */
  manta_value *req;            /* the request value, kept for a retry */
  char method[128];            /* the actor method called */
  bool retried;
} request;

typedef struct ingress {
  struct MHD_Daemon *daemon;
  bool tls; /* HTTPS */
  int port;
  char *token;
  size_t max_body;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  request *waiting;
  bool stopping;
  pthread_t sweeper;
} ingress;

static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static ingress *running;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void unlist_locked(ingress *in, request *q) {
  if (!q->listed) {
    return;
  }
  if (q->prev) {
    q->prev->next = q->next;
  } else {
    in->waiting = q->next;
  }
  if (q->next) {
    q->next->prev = q->prev;
  }
  q->next = q->prev = NULL;
  q->listed = false;
}

static enum MHD_Result send_response(struct MHD_Connection *c,
                                     mt_serve_response *r) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    mt_serve_response_clear(r);
    return MHD_NO;
  }
  r->body = NULL; /* the response frees it */
  MHD_add_response_header(resp, "Content-Type", r->content_type);
  for (size_t i = 0; i < r->nheaders; i++) {
    MHD_add_response_header(resp, r->names[i], r->values[i]);
  }
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
  MHD_destroy_response(resp);
  mt_serve_response_clear(r);
  return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status,
                                 const char *fmt, const char *a,
                                 const char *b) {
  mt_serve_response r = {0};
  if (!mt_serve_response_text(&r, status, fmt, a, b ? b : "")) {
    mt_serve_response_clear(&r);
    return MHD_NO;
  }
  return send_response(c, &r);
}

/* The ready callback: under the runtime's lock (serve_runtime.h). */
static void on_result(void *ctx, manta_value *v) {
  request *q = ctx;
  q->result = v;
  q->ready_ns = mt_now_ns();
  atomic_store(&q->state, R_DONE);
  if (atomic_fetch_add(&q->handoff, 1) == 1) {
    MHD_resume_connection(q->conn);
    mt_serve_pollers_resumed();
  }
}

/* Ends a waiting request with an error of our own (timeout, shutdown) if
 * its result has not come; under mu. */
static void give_up_locked(request *q, manta_err code, const char *msg) {
  if (atomic_load(&q->state) != R_WAITING || !mt_serve_wait_cancel(&q->wait)) {
    return; /* the result came first: it is answered with it */
  }
  q->result = manta_error(code, "%s", msg);
  atomic_store(&q->state, R_DONE);
  if (atomic_fetch_add(&q->handoff, 1) == 1) {
    MHD_resume_connection(q->conn);
    mt_serve_pollers_resumed();
  }
}

static void *sweep(void *arg) {
  ingress *in = arg;
  pthread_mutex_lock(&in->mu);
  while (!in->stopping) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += SWEEP_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&in->cv, &in->mu, &ts);
    int64_t now = now_ms();
    for (request *q = in->waiting; q; q = q->next) {
      if (q->deadline_ms && now >= q->deadline_ms) {
        char msg[320];
        snprintf(msg, sizeof msg, "route %s: no result within %lld ms",
                 q->dep->spec.route, (long long)q->dep->spec.timeout_ms);
        give_up_locked(q, MANTA_ERR_TIMEOUT, msg);
      }
    }
  }
  pthread_mutex_unlock(&in->mu);
  return NULL;
}

static enum MHD_Result add_value(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value) {
  manta_value *map = cls;
  if (kind == MHD_HEADER_KIND) {
    mt_serve_headers_add(map, key, value ? value : "");
  } else {
    manta_value *v = manta_cstring(value ? value : "");
    if (v) {
      manta_map_put(map, key, v);
    }
  }
  return MHD_YES;
}

/* The actor method for a request: the route's, else the path segment
 * after the route ("/counter/increment" -> "increment"). */
static bool method_of(const mt_serve_dep *d, const char *path, char *out,
                      size_t size) {
  if (d->spec.method) {
    snprintf(out, size, "%s", d->spec.method);
    return true;
  }
  const char *rest =
      path + (strlen(d->spec.route) == 1 ? 0 : strlen(d->spec.route));
  rest += strspn(rest, "/");
  size_t n = strcspn(rest, "/");
  if (n == 0 || n >= size) {
    return false;
  }
  memcpy(out, rest, n);
  out[n] = '\0';
  return true;
}

/* The request value a replica gets: the request and its index. A new map
 * each time (the request is frozen once sent), sharing the fields. */
static manta_value *for_replica(const manta_value *req, int replica) {
  manta_value *m = manta_map();
  size_t n = 0;
  manta_len(req, &n);
  for (size_t i = 0; m && i < n; i++) {
    const char *key;
    const manta_value *item;
    manta_map_at(req, i, &key, &item);
    if (manta_map_put(m, key, manta_value_ref((manta_value *)item)) !=
        MANTA_OK) {
      manta_value_free(m);
      return NULL;
    }
  }
  if (m && manta_map_put(m, "replica", manta_int(replica)) != MANTA_OK) {
    manta_value_free(m);
    return NULL;
  }
  return m;
}

static _Thread_local bool inline_blocked;

static void on_inline_block(void) {
  inline_blocked = true;
}

/* Runs the calls this thread deferred (q's among them) here, inside the
 * access handler (serve_inline.h says when); true if q's result is in
 * (its side of the handoff). */
static bool run_inline(mt_serve_dep *d, request *q) {
  inline_blocked = false;
  int64_t t0 = mt_now_ns();
  mt_serve_run_here(NULL, on_inline_block, NULL);
  mt_serve_inline_ran(d, mt_now_ns() - t0, inline_blocked);
  return atomic_load(&q->handoff) == 1;
}

static enum MHD_Result answer_result(ingress *in, request *q,
                                     struct MHD_Connection *c);

/* Takes a slot, submits q->req to the target, and answers at once if the
 * call ran inline and is done; else suspends the connection until the
 * result is there. 503 when the route is full. */
static enum MHD_Result submit(ingress *in, request *q,
                              struct MHD_Connection *c) {
  mt_serve_dep *d = q->dep;
  q->replica = mt_serve_dep_acquire(d);
  if (q->replica < 0) {
    char max[32];
    snprintf(max, sizeof max, "%u", d->spec.max_ongoing);
    return send_text(c, 503,
                     "503 overloaded: every replica of route %s has "
                     "max_ongoing_requests (%s) in flight",
                     d->spec.route, max);
  }
  manta_value *req =
      d->spec.cls ? for_replica(q->req, q->replica) : manta_value_ref(q->req);
  if (!req) {
    mt_serve_dep_release(d, q->replica, 0, MANTA_ERR_NOMEM);
    q->replica = -1;
    return send_text(c, 500, "500 internal error: %s%s", "out of memory", "");
  }
  q->deadline_ms = d->spec.timeout_ms > 0 ? now_ms() + d->spec.timeout_ms : 0;
  bool inline_ok = mt_serve_inline_ok(d);
  /* Under mu from listing to waiting: stop (which gives up every listed
   * request under mu) never misses a request half way in. */
  pthread_mutex_lock(&in->mu);
  if (in->stopping) {
    pthread_mutex_unlock(&in->mu);
    manta_value_free(req);
    mt_serve_dep_release(d, q->replica, 0, MANTA_ERR_SHUTDOWN);
    q->replica = -1;
    return send_text(c, 503, "503 unavailable: %s%s", "Serve is stopping", "");
  }
  atomic_store(&q->state, R_WAITING);
  q->next = in->waiting;
  if (in->waiting) {
    in->waiting->prev = q;
  }
  in->waiting = q;
  q->listed = true;
  q->ready_ns = 0;
  /* Suspended up front unless the call may be answered inline: the
   * result then resumes it (handoff already counts the handler). */
  atomic_store(&q->handoff, inline_ok ? 0 : 1);
  if (!inline_ok) {
    MHD_suspend_connection(c);
  }
  mt_serve_pollers_defer(); /* run by this thread, not a woken worker */
  manta_ref ref = {0};
  const manta_value *args[] = {req};
  manta_err err;
  q->submit_ns = mt_now_ns();
  if (d->spec.cls) {
    manta_actor a = {atomic_load(&d->reps[q->replica].actor)};
    q->actor = a.id;
    err = manta_actor_call(a, q->method, args, 1, &ref);
  } else {
    err = manta_submit(d->spec.function, args, 1, NULL, &ref);
  }
  if (err != MANTA_OK || !mt_serve_wait_start(&q->wait, ref, on_result, q)) {
    /* Not submitted: answered with an error, the same way as a result. */
    q->result =
        manta_error(err ? err : MANTA_ERR_BAD_HANDLE,
                    "route %s: the call could not be made", d->spec.route);
    atomic_store(&q->state, R_DONE);
    if (atomic_fetch_add(&q->handoff, 1) == 1) {
      MHD_resume_connection(c);
      mt_serve_pollers_resumed();
    }
  }
  pthread_mutex_unlock(&in->mu);
  manta_value_free(req);
  if (!inline_ok) {
    return MHD_YES;
  }
  /* The result's side counts in the handoff once it is done with q. Only
   * q's own call runs inline: another queued one (another route's, a
   * program's task) may last. */
  if (atomic_load(&q->handoff) == 1 ||
      (mt_serve_here_runs_only(&q->wait) && run_inline(d, q))) {
    return answer_result(in, q, c);
  }
  /* Not done here (others queued, its actor busy elsewhere): suspended,
   * run after the loop as usual. */
  MHD_suspend_connection(c);
  if (atomic_fetch_add(&q->handoff, 1) == 1) {
    MHD_resume_connection(c); /* the result came meanwhile */
    mt_serve_pollers_resumed();
  }
  return MHD_YES;
}

/* Builds the request value and submits it. */
static enum MHD_Result dispatch(ingress *in, request *q,
                                struct MHD_Connection *c, const char *url,
                                const char *method) {
  mt_serve_dep *d = q->dep;
  char why[512], meth[128];
  if (d->spec.cls && !method_of(d, url, meth, sizeof meth)) {
    return send_text(c, 404,
                     "404 not found: route %s calls the actor method named "
                     "by the next path segment (%s/METHOD)",
                     d->spec.route, d->spec.route);
  }
  manta_value *query = manta_map(), *headers = manta_map();
  if (query) {
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_value, query);
  }
  if (headers) {
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_value, headers);
  }
  if (!query || !headers) {
    manta_value_free(query), manta_value_free(headers);
    return send_text(c, 500, "500 internal error: %s%s", "out of memory", "");
  }
  manta_value *req =
      mt_serve_request_value(method, url, d->spec.route, query, headers,
                             q->body, q->len, why, sizeof why);
  if (!req) {
    return send_text(c, strncmp(why, "bad JSON", 8) == 0 ? 400 : 500, "%s: %s",
                     strncmp(why, "bad JSON", 8) == 0
                         ? "400 bad request: the JSON body"
                         : "500 internal error",
                     why);
  }
  q->req = req;
  snprintf(q->method, sizeof q->method, "%s", meth);
  return submit(in, q, c);
}

static enum MHD_Result answer_result(ingress *in, request *q,
                                     struct MHD_Connection *c) {
  pthread_mutex_lock(&in->mu);
  unlist_locked(in, q);
  pthread_mutex_unlock(&in->mu);
  manta_err code = q->result && manta_value_kind(q->result) == MANTA_KIND_ERROR
                       ? manta_error_code(q->result)
                       : MANTA_OK;
  int replica = q->replica;
  if (atomic_load(&q->handoff) == 2) { /* run the usual way */
    /* No ready time: given up (timeout, stop), as slow as it gets. */
    mt_serve_inline_learn(q->dep,
                          q->ready_ns ? q->ready_ns - q->submit_ns : INT64_MAX);
  }
  mt_serve_dep_release(q->dep, replica, q->actor, code);
  q->actor = 0;
  q->replica = -1;
  if ((code == MANTA_ERR_ACTOR_DEAD || code == MANTA_ERR_NODE_DIED) &&
      q->dep->spec.cls && q->dep->spec.idempotent && !q->retried) {
    /* The replica is gone (and being replaced): an idempotent route tries
     * once more, on the replica the choice gives now. */
    q->retried = true;
    atomic_fetch_add(&q->dep->retried, 1);
    manta_value_free(q->result);
    q->result = NULL;
    atomic_store(&q->state, R_NEW);
    return submit(in, q, c);
  }
  mt_serve_response r = {0};
  if (!mt_serve_response_from_value(q->result, &r)) {
    mt_serve_response_clear(&r);
    return MHD_NO;
  }
  if (q->dep->spec.cls && q->result &&
      manta_value_kind(q->result) != MANTA_KIND_ERROR) {
    /* Which replica answered, for clients and for the example. */
    char idx[16];
    snprintf(idx, sizeof idx, "%d", replica);
    if (!mt_serve_response_add_header(&r, "X-Manta-Replica", idx)) {
      mt_serve_response_clear(&r);
      return MHD_NO;
    }
  }
  return send_response(c, &r);
}

static enum MHD_Result too_large(ingress *in, struct MHD_Connection *c) {
  char max[32];
  snprintf(max, sizeof max, "%zu", in->max_body);
  return send_text(c, 413, "413 content too large: the body is over %s bytes%s",
                   max, "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  ingress *in = cls;
  request *q = *con_cls;
  if (!q) {
    q = calloc(1, sizeof *q);
    if (!q) {
      return MHD_NO;
    }
    q->replica = -1;
    q->conn = c;
    *con_cls = q;
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > in->max_body) {
      q->too_big = true; /* answered once the head is read: below */
    }
    q->admin = strncmp(url, "/-/", 3) == 0;
    if (!q->admin && !(q->dep = mt_serve_routes_match(url))) {
      return send_text(c, 404, "404 not found: no route covers %s%s", url, "");
    }
    if (q->too_big) {
      return too_large(in, c);
    }
    return MHD_YES;
  }
  if (atomic_load(&q->state) == R_DONE) {
    return answer_result(in, q, c);
  }
  if (*upload_size) {
    size_t n = *upload_size;
    *upload_size = 0;
    if (q->too_big || q->len + n > in->max_body) {
      q->too_big = true; /* the rest is read and dropped */
      return MHD_YES;
    }
    if (q->len + n > q->cap) {
      size_t cap = q->cap ? q->cap : 4096;
      while (cap < q->len + n) {
        cap *= 2;
      }
      char *b = realloc(q->body, cap);
      if (!b) {
        return MHD_NO;
      }
      q->body = b, q->cap = cap;
    }
    memcpy(q->body + q->len, upload, n);
    q->len += n;
    return MHD_YES;
  }
  if (q->too_big) {
    return too_large(in, c);
  }
  if (q->admin) {
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    mt_serve_response r = {0};
    const char *type =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    bool ok =
        mt_serve_admin(method, url, type, q->body, q->len,
                       !in->token || mt_http_bearer_ok(auth, in->token), &r);
    if (!ok) {
      mt_serve_response_clear(&r);
      return MHD_NO;
    }
    return send_response(c, &r);
  }
  return dispatch(in, q, c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why) {
  (void)c, (void)why;
  ingress *in = cls;
  request *q = *con_cls;
  if (!q) {
    return;
  }
  *con_cls = NULL;
  pthread_mutex_lock(&in->mu);
  unlist_locked(in, q);
  pthread_mutex_unlock(&in->mu);
  if (q->replica >= 0) {
    mt_serve_dep_release(q->dep, q->replica, q->actor, MANTA_ERR_CANCELLED);
  }
  mt_serve_dep_unref(q->dep);
  manta_value_free(q->req);
  manta_value_free(q->result);
  free(q->body);
  free(q);
}

/* Debug: bad requests and dropped clients are the clients' business, and
 * a public ingress meets many. */
static const mt_http_log_as serve_log = {MT_LOG_DEBUG, "serve: http: "};

static void ingress_free(ingress *in) {
  pthread_mutex_destroy(&in->mu);
  pthread_cond_destroy(&in->cv);
  if (in->token) {
    memset(in->token, 0, strlen(in->token));
    free(in->token);
  }
  free(in);
}

manta_err mt_serve_ingress_start(const mt_serve_config *cfg, char *why,
                                 size_t why_size) {
  const char *host = cfg->host ? cfg->host : "127.0.0.1";
  if (cfg->port < 0 || cfg->port > 65535) {
    snprintf(why, why_size, "bad Serve port %d: 0 (any free one) to 65535",
             cfg->port);
    return MANTA_ERR_INVALID;
  }
  pthread_mutex_lock(&start_mu);
  if (running) {
    pthread_mutex_unlock(&start_mu);
    snprintf(why, why_size, "Serve already listens on port %d", running->port);
    return MANTA_ERR_EXISTS;
  }
  ingress *in = calloc(1, sizeof *in);
  if (!in || (cfg->token && !(in->token = strdup(cfg->token)))) {
    free(in);
    pthread_mutex_unlock(&start_mu);
    snprintf(why, why_size, "out of memory");
    return MANTA_ERR_NOMEM;
  }
  pthread_mutex_init(&in->mu, NULL);
  pthread_cond_init(&in->cv, NULL);
  in->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
  int fd = mt_http_listen(host, cfg->port, why, why_size);
  if (fd < 0 || (in->port = mt_http_bound_port(fd)) < 0) {
    if (fd >= 0) {
      close(fd);
    }
    ingress_free(in);
    pthread_mutex_unlock(&start_mu);
    return MANTA_ERR_INVALID;
  }
  in->tls = cfg->tls.cert && cfg->tls.key;
  if (in->tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
    snprintf(why, why_size,
             "the node has TLS but this libmicrohttpd was built without "
             "HTTPS: routes cannot be served in clear text beside it");
    close(fd);
    ingress_free(in);
    pthread_mutex_unlock(&start_mu);
    return MANTA_ERR_INTERNAL;
  }
  /* The TLS options last: with plain HTTP the list ends before them. */
  in->daemon = MHD_start_daemon(
      MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
          (in->tls ? MHD_USE_TLS : 0),
      0, NULL, NULL, on_request, in, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, in,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEAD_LIMIT,
      MHD_OPTION_EXTERNAL_LOGGER, mt_http_mhd_log, (void *)&serve_log,
      in->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
      in->tls ? cfg->tls.key : NULL, MHD_OPTION_HTTPS_MEM_CERT,
      in->tls ? cfg->tls.cert : NULL, MHD_OPTION_END);
  char poll_why[128] = "";
  bool polled = false;
  if (!in->daemon ||
      !(polled =
            mt_serve_pollers_start(in->daemon, poll_why, sizeof poll_why)) ||
      pthread_create(&in->sweeper, NULL, sweep, in) != 0) {
    snprintf(why, why_size,
             "cannot start the Serve HTTP%s server on port %d%s%s%s",
             in->tls ? "S" : "", in->port,
             in->tls && !in->daemon
                 ? " (is the node's TLS certificate and key a pair?)"
                 : "",
             poll_why[0] ? ": " : "", poll_why);
    if (polled) {
      mt_serve_pollers_stop();
    }
    if (in->daemon) {
      MHD_stop_daemon(in->daemon);
    } else {
      close(fd);
    }
    ingress_free(in);
    pthread_mutex_unlock(&start_mu);
    return MANTA_ERR_INTERNAL;
  }
  running = in;
  pthread_mutex_unlock(&start_mu);
  mt_log(MT_LOG_INFO, "serve: listening on %s://%s:%d",
         in->tls ? "https" : "http", host, in->port);
  return MANTA_OK;
}

bool mt_serve_ingress_tls(void) {
  pthread_mutex_lock(&start_mu);
  bool tls = running && running->tls;
  pthread_mutex_unlock(&start_mu);
  return tls;
}

int mt_serve_ingress_port(void) {
  pthread_mutex_lock(&start_mu);
  int port = running ? running->port : -1;
  pthread_mutex_unlock(&start_mu);
  return port;
}

void mt_serve_ingress_stop(void) {
  pthread_mutex_lock(&start_mu);
  ingress *in = running;
  running = NULL;
  pthread_mutex_unlock(&start_mu);
  if (!in) {
    return;
  }
  /* Every suspended connection is resumed before the daemon stops (as
   * libmicrohttpd requires), answered 503 by the pollers' last run. */
  pthread_mutex_lock(&in->mu);
  in->stopping = true;
  for (request *q = in->waiting; q; q = q->next) {
    give_up_locked(q, MANTA_ERR_SHUTDOWN, "Serve is stopping");
  }
  pthread_cond_signal(&in->cv);
  pthread_mutex_unlock(&in->mu);
  pthread_join(in->sweeper, NULL);
  mt_serve_pollers_stop();
  MHD_stop_daemon(in->daemon);
  ingress_free(in);
}
