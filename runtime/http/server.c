/*
 * The node's HTTP listener and its routing table, on libmicrohttpd (one
 * internal thread polling every connection: scrapes are rare and short, and
 * a thread per connection would let any client that can connect start
 * threads in the node).
 */
#include "http.h"

#include "clock.h"
#include "local_state.h"
#include "log.h"
#include "refusals.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 32
/* A connection's whole request head (line and headers) must fit here:
 * more is answered 431 by libmicrohttpd and the connection closed. */
#define HEAD_LIMIT (16 * 1024)
#define MAX_CONNECTIONS 64
#define IDLE_TIMEOUT_S 10

/* The node server's libmicrohttpd messages (rare: a refused handshake, a
 * socket error) are worth seeing at the default level. */
static const mt_http_log_as node_log = {MT_LOG_INFO, "http: "};

typedef struct route {
  char *path;
  mt_http_handler fn;
  void *arg;
} route;

struct mt_http_server {
  bool tls; /* HTTPS */
  struct MHD_Daemon *daemon;
  int port;
  char *token; /* NULL: none asked */
  mt_refusals *refusals;
  pthread_mutex_t mu; /* routes */
  route routes[MAX_ROUTES];
  size_t nroutes;
  const char *login; /* the 401 page for browsers (static), or NULL */
  size_t login_len;
};

bool mt_http_bearer_ok(const char *header, const char *token) {
  static const char scheme[] = "Bearer ";
  size_t n = sizeof scheme - 1;
  if (!header || strncasecmp(header, scheme, n) != 0) {
    return false;
  }
  header += n;
  return mt_token_equal(header, strlen(header), token);
}

/* The client as the refusal log keys it ("ipv4:HOST:PORT"). */
static void peer_name(struct MHD_Connection *c, char *out, size_t size) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  char host[INET6_ADDRSTRLEN] = "unknown";
  int port = 0;
  const struct sockaddr *sa = ci ? ci->client_addr : NULL;
  if (sa && sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (sa && sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  snprintf(out, size, "%s:%s:%d",
           sa && sa->sa_family == AF_INET6 ? "ipv6" : "ipv4", host, port);
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status,
                                 const char *type, char *body, size_t len,
                                 bool owned, const char *hname,
                                 const char *hvalue) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) {
    if (owned) {
      free(body);
    }
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", type);
  /* Metrics and tokens must not sit in shared caches. */
  MHD_add_response_header(r, "Cache-Control", "no-store");
  if (hname) {
    MHD_add_response_header(r, hname, hvalue);
  }
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result send_static(struct MHD_Connection *c, int status,
                                   const char *msg, const char *hname,
                                   const char *hvalue) {
  return send_text(c, status, "text/plain; charset=utf-8", (char *)msg,
                   strlen(msg), false, hname, hvalue);
}

/* The token as the dashboard's login page keeps it: the cookie
 * manta_token (SameSite=Strict), for a browser that cannot add a header to
 * a page it navigates to. */
static bool cookie_ok(struct MHD_Connection *c, const char *token) {
  const char *v =
      MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "manta_token");
  return v && mt_token_equal(v, strlen(v), token);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version, (void)upload, (void)upload_size, (void)con_cls;
  mt_http_server *s = cls;
  /* The token first: without it a client learns nothing, not even which
   * paths exist. */
  if (s->token &&
      !mt_http_bearer_ok(
          MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
          s->token) &&
      !cookie_ok(c, s->token)) {
    char peer[INET6_ADDRSTRLEN + 16];
    peer_name(c, peer, sizeof peer);
    mt_refusals_note(s->refusals, peer, url,
                     "missing or wrong cluster token (HTTP Authorization: "
                     "Bearer)",
                     mt_now_ms());
    const char *accept =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    pthread_mutex_lock(&s->mu);
    const char *login = s->login;
    size_t login_len = s->login_len;
    pthread_mutex_unlock(&s->mu);
    if (login && accept && strstr(accept, "text/html")) {
      /* A browser: the page that asks for the token (docs/observability.md)
       * is the refusal itself, so no path answers without the token. */
      return send_text(c, 401, "text/html; charset=utf-8", (char *)login,
                       login_len, false, "WWW-Authenticate",
                       "Bearer realm=\"manta\"");
    }
    return send_static(c, 401,
                       "401 unauthorized: this node needs the cluster token "
                       "(Authorization: Bearer TOKEN)\n",
                       "WWW-Authenticate", "Bearer realm=\"manta\"");
  }
  route r = {0};
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->nroutes; i++) {
    if (strcmp(s->routes[i].path, url) == 0) {
      r = s->routes[i];
      break;
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (!r.fn) {
    return send_static(c, 404, "404 not found: no such path on this node\n",
                       NULL, NULL);
  }
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    return send_static(c, 405, "405 method not allowed: use GET\n", "Allow",
                       "GET, HEAD");
  }
  mt_http_reply reply = {.status = 200,
                         .content_type = "text/plain; charset=utf-8"};
  r.fn(r.arg, &reply);
  if (!reply.body) {
    return send_static(c, 500, "500 internal error: out of memory\n", NULL,
                       NULL);
  }
  return send_text(c, reply.status, reply.content_type, reply.body, reply.len,
                   true, NULL, NULL);
}

void mt_http_mhd_log(void *arg, const char *fmt, va_list ap) {
  const mt_http_log_as *as = arg;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && msg[n - 1] == '\n') {
    msg[--n] = '\0';
  }
  mt_log(as->level, "%s%s", as->prefix, msg);
}

/* Binds and listens ourselves, so a failure names its cause (the port
 * taken, a host that does not resolve) instead of libmicrohttpd's NULL. */
int mt_http_listen(const char *host, int port, char *why, size_t why_size) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char service[16], bare[64];
  snprintf(service, sizeof service, "%d", port);
  const char *node = host && *host && strcmp(host, "*") != 0 ? host : NULL;
  if (node && node[0] == '[') {
    /* "[::1]" as in a bind address: the brackets are not the host's. */
    /* brackets stripped into bare */
    snprintf(bare, sizeof bare, "%.*s", (int)strcspn(node + 1, "]"), node + 1);
    node = bare;
  }
  int rc = getaddrinfo(node, service, &hints, &res);
  if (rc != 0) {
    snprintf(why, why_size, "cannot resolve the HTTP bind host '%s': %s", host,
             gai_strerror(rc));
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    int e = errno;
    snprintf(why, why_size, "cannot listen for HTTP on %s:%d: %s%s",
             host && *host ? host : "*", port, strerror(e),
             e == EADDRINUSE ? " (the port is taken: choose another, or 0 "
                               "for any free port)"
                             : "");
    if (fd >= 0) {
      close(fd);
    }
    freeaddrinfo(res);
    return -1;
  }
  freeaddrinfo(res);
  return fd;
}

int mt_http_bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    return -1;
  }
  return ntohs(ss.ss_family == AF_INET6
                   ? ((struct sockaddr_in6 *)&ss)->sin6_port
                   : ((struct sockaddr_in *)&ss)->sin_port);
}

mt_http_server *mt_http_start(const char *host, int port, const char *token,
                              const mt_http_tls *tls, char *why,
                              size_t why_size) {
  if (port < 0 || port > 65535) {
    snprintf(why, why_size,
             "bad HTTP port %d: a port is 0 (any free one) to 65535", port);
    return NULL;
  }
  mt_http_server *s = calloc(1, sizeof *s);
  if (!s || (token && !(s->token = strdup(token)))) {
    snprintf(why, why_size, "out of memory");
    free(s);
    return NULL;
  }
  pthread_mutex_init(&s->mu, NULL);
  int fd = mt_http_listen(host, port, why, why_size);
  if (fd < 0) {
    mt_http_stop(s);
    return NULL;
  }
  s->port = mt_http_bound_port(fd);
  s->refusals = mt_refusals_new(MT_REFUSALS_INTERVAL_MS, NULL, NULL);
  s->tls = tls && tls->cert && tls->key;
  unsigned flags =
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  /* The TLS options last: with plain HTTP the list ends before them. */
  s->daemon = MHD_start_daemon(
      flags | (s->tls ? MHD_USE_TLS : 0), 0, NULL, NULL, on_request, s,
      MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)HEAD_LIMIT, MHD_OPTION_EXTERNAL_LOGGER, mt_http_mhd_log,
      (void *)&node_log, s->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
      s->tls ? tls->key : NULL, MHD_OPTION_HTTPS_MEM_CERT,
      s->tls ? tls->cert : NULL, MHD_OPTION_END);
  if (!s->daemon) {
    snprintf(why, why_size, "cannot start the HTTP%s server on port %d%s",
             s->tls ? "S" : "", s->port,
             s->tls ? " (is the node's TLS certificate and key a pair?)" : "");
    close(fd);
    mt_http_stop(s);
    return NULL;
  }
  return s;
}

int mt_http_port(const mt_http_server *s) {
  return s->port;
}

const char *mt_http_scheme(const mt_http_server *s) {
  return s->tls ? "https" : "http";
}

void mt_http_set_login_page(mt_http_server *s, const char *html, size_t len) {
  pthread_mutex_lock(&s->mu);
  s->login = html;
  s->login_len = len;
  pthread_mutex_unlock(&s->mu);
}

bool mt_http_route(mt_http_server *s, const char *path, mt_http_handler fn,
                   void *arg) {
  bool ok = false;
  pthread_mutex_lock(&s->mu);
  bool taken = false;
  for (size_t i = 0; i < s->nroutes; i++) {
    taken |= strcmp(s->routes[i].path, path) == 0;
  }
  if (!taken && s->nroutes < MAX_ROUTES &&
      (s->routes[s->nroutes].path = strdup(path))) {
    s->routes[s->nroutes].fn = fn;
    s->routes[s->nroutes].arg = arg;
    s->nroutes++;
    ok = true;
  }
  pthread_mutex_unlock(&s->mu);
  return ok;
}

void mt_http_stop(mt_http_server *s) {
  if (!s) {
    return;
  }
  if (s->daemon) {
    /* Closes the listening socket too, and joins the thread. */
    MHD_stop_daemon(s->daemon);
  }
  if (s->refusals) {
    mt_refusals_free(s->refusals);
  }
  for (size_t i = 0; i < s->nroutes; i++) {
    free(s->routes[i].path);
  }
  pthread_mutex_destroy(&s->mu);
  if (s->token) {
    memset(s->token, 0, strlen(s->token));
    free(s->token);
  }
  free(s);
}
