/*
 * An open-loop HTTP load generator for bench/serve: requests are sent at a
 * fixed rate whatever the server does (wrk waits for each answer before
 * the next on a connection, so a slow server slows its own load and hides
 * its queueing: "coordinated omission"). Each request has a scheduled send
 * time, k / RATE seconds after the start, and its latency counts from that
 * time, so a request that waited for a free connection or a late loop
 * counts its wait too.
 *
 *   serve_rate_gen HOST:PORT PATH RATE SECONDS [MAX_CONNECTIONS]
 *
 * HTTP/1.1 keep-alive connections on one thread (epoll), one request in
 * flight on each; a new connection is opened when every open one is busy,
 * up to MAX_CONNECTIONS (default 256), after which requests queue here (and
 * their latency grows). Prints one JSON line: the rate asked and reached,
 * answers, errors, non-2xx, and latency percentiles in milliseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF 16384
#define DRAIN_S 10 /* at most this long for the answers still due */

typedef struct conn {
  int fd;
  bool busy;
  int64_t sched_ns; /* the scheduled send time of the request in flight */
  char buf[RBUF];
  size_t len;
} conn;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct addrinfo *target;
static char request[1024];
static size_t request_len;
static conn *conns;
static int nconns, max_conns, ep;
static double *lat_ms;
static size_t nlat;
static long errors, non_2xx;

static conn *dial(void) {
  if (nconns == max_conns) {
    return NULL;
  }
  int fd = socket(target->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || connect(fd, target->ai_addr, target->ai_addrlen) != 0) {
    if (fd >= 0) {
      close(fd);
    }
    errors++;
    return NULL;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  conn *c = &conns[nconns];
  memset(c, 0, sizeof *c);
  c->fd = fd;
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)nconns};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  nconns++;
  return c;
}

/* Sends the request on c (idle); false if the connection broke. */
static bool send_on(conn *c, int64_t sched) {
  ssize_t w = send(c->fd, request, request_len, MSG_NOSIGNAL);
  if (w != (ssize_t)request_len) {
    return false; /* a small request into an idle socket: all or broken */
  }
  c->busy = true;
  c->sched_ns = sched;
  c->len = 0;
  return true;
}

static void drop(conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->busy = false;
}

/* A whole response in c->buf: its length (head and body), 0 if not yet,
 * -1 if it cannot be read (no Content-Length: not what Serve sends). */
static long complete(conn *c, int *status) {
  c->buf[c->len < RBUF ? c->len : RBUF - 1] = '\0';
  char *end = strstr(c->buf, "\r\n\r\n");
  if (!end) {
    return c->len >= RBUF - 1 ? -1 : 0;
  }
  if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1) {
    return -1;
  }
  const char *cl = strcasestr(c->buf, "\r\ncontent-length:");
  long body = cl && cl < end ? strtol(cl + 17, NULL, 10) : -1;
  if (body < 0) {
    return -1;
  }
  long total = (long)(end + 4 - c->buf) + body;
  return (size_t)total <= c->len ? total : 0;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (!nlat) {
    return 0;
  }
  size_t i = (size_t)(p * (double)(nlat - 1) + 0.5);
  return lat_ms[i];
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: serve_rate_gen HOST:PORT PATH RATE SECONDS "
                    "[MAX_CONNECTIONS]\n");
    return 2;
  }
  char host[256];
  const char *colon = strrchr(argv[1], ':');
  double rate = atof(argv[3]), secs = atof(argv[4]);
  max_conns = argc > 5 ? atoi(argv[5]) : 256;
  if (!colon || (size_t)(colon - argv[1]) >= sizeof host || rate <= 0 ||
      secs <= 0 || max_conns < 1) {
    fprintf(stderr, "serve_rate_gen: bad arguments\n");
    return 2;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - argv[1]), argv[1]);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
  if (getaddrinfo(host, colon + 1, &hints, &target) != 0) {
    fprintf(stderr, "serve_rate_gen: cannot resolve %s\n", host);
    return 1;
  }
  request_len =
      (size_t)snprintf(request, sizeof request,
                       "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[2], argv[1]);
  size_t total = (size_t)(rate * secs);
  conns = calloc((size_t)max_conns, sizeof *conns);
  lat_ms = calloc(total + 1, sizeof *lat_ms);
  int64_t *queue = calloc(total + 1, sizeof *queue); /* scheduled, unsent */
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (!conns || !lat_ms || !queue || ep < 0) {
    fprintf(stderr, "serve_rate_gen: out of memory\n");
    return 1;
  }
  size_t qhead = 0, qtail = 0, scheduled = 0;
  long outstanding = 0;
  int64_t start = now_ns(), interval = (int64_t)(1e9 / rate);
  int64_t stop_at = start + (int64_t)(secs * 1e9) + DRAIN_S * 1000000000LL;
  while (now_ns() < stop_at &&
         (scheduled < total || outstanding > 0 || qhead < qtail)) {
    int64_t now = now_ns();
    /* Every request due by now joins the queue at its scheduled time. */
    while (scheduled < total && start + (int64_t)scheduled * interval <= now) {
      queue[qtail++] = start + (int64_t)scheduled * interval;
      scheduled++;
    }
    /* Sent on an idle connection, or a new one. */
    while (qhead < qtail) {
      conn *c = NULL;
      for (int i = 0; i < nconns && !c; i++) {
        c = conns[i].fd >= 0 && !conns[i].busy ? &conns[i] : NULL;
      }
      if (!c && !(c = dial())) {
        break; /* all busy: it waits here, its latency growing */
      }
      if (!send_on(c, queue[qhead])) {
        drop(c);
        errors++;
      } else {
        outstanding++;
      }
      qhead++;
    }
    int64_t next = scheduled < total ? start + (int64_t)scheduled * interval
                                     : now + 10000000;
    int wait_ms = (int)((next - now_ns()) / 1000000);
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, wait_ms < 0 ? 0 : wait_ms);
    for (int e = 0; e < n; e++) {
      conn *c = &conns[evs[e].data.u32];
      if (c->fd < 0) {
        continue;
      }
      ssize_t r = recv(c->fd, c->buf + c->len, RBUF - 1 - c->len, 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      }
      int status = 0;
      long whole = r > 0 ? (c->len += (size_t)r, complete(c, &status)) : -1;
      if (whole == 0) {
        continue;
      }
      if (whole < 0 || !c->busy) {
        if (c->busy) {
          outstanding--;
          errors++;
        }
        drop(c);
        continue;
      }
      lat_ms[nlat++] = (double)(now_ns() - c->sched_ns) / 1e6;
      non_2xx += status < 200 || status > 299;
      outstanding--;
      c->busy = false;
      c->len = 0; /* one request at a time: nothing follows the answer */
    }
  }
  double elapsed = (double)(now_ns() - start) / 1e9;
  errors += outstanding + (long)(qtail - qhead) + (long)(total - scheduled);
  qsort(lat_ms, nlat, sizeof *lat_ms, cmp);
  printf("{\"rate_asked\":%.0f,\"seconds\":%.1f,\"answered\":%zu,"
         "\"answered_per_s\":%.1f,\"errors\":%ld,\"non_2xx\":%ld,"
         "\"connections\":%d,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
         "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
         rate, secs, nlat, (double)nlat / (elapsed < secs ? elapsed : secs),
         errors, non_2xx, nconns, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
         nlat ? lat_ms[nlat - 1] : 0.0);
  for (int i = 0; i < nconns; i++) {
    if (conns[i].fd >= 0) {
      close(conns[i].fd);
    }
  }
  freeaddrinfo(target);
  free(conns), free(lat_ms), free(queue);
  close(ep);
  return errors ? 1 : 0;
}
