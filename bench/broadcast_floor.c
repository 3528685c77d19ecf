/*
 * The floor under `broadcast` (bench/scale_transfer.py): what moving one
 * object to N receiving processes over loopback TCP costs on this machine
 * with no runtime at all.
 *
 *   broadcast_floor [--bytes 1GiB] [--receivers 1,2,4,8] [--reps 1]
 *                   [--json FILE]
 *
 * For each count N: N receiver processes in a chain, the topology manta's
 * relays form (each fetcher is served by the one that asked before it).
 * The source (this process) sends the object, already in its memory, to
 * the first receiver in 1 MiB writes; each receiver reads into fresh
 * anonymous memory, as a node's object store does, and writes each piece
 * on to the next receiver as soon as it has it. The figure is the time
 * from the first byte sent to the last receiver holding the whole object,
 * and the receivers' CPU seconds (their page faults included: what a
 * received GiB costs whoever sends it).
 *
 * Every receiver checks a sample of bytes of what it got; the run fails
 * unless all are right. Every receiver is stopped (SIGKILL) when the run
 * fails, and each exits by itself after 30 minutes at most (alarm).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define CHUNK (1u << 20)
#define MAX_RECEIVERS 64
#define MAX_COUNTS 16
#define RECEIVER_ALARM_S 1800

static pid_t children[MAX_RECEIVERS];
static int nchildren;

static void stop_children(void) {
  for (int i = 0; i < nchildren; i++)
    if (children[i] > 0)
      kill(children[i], SIGKILL);
  for (int i = 0; i < nchildren; i++)
    if (children[i] > 0)
      waitpid(children[i], NULL, 0);
  nchildren = 0;
}

/* bench_die with errno's reason. */
static void fail(const char *what) {
  bench_die("%s: %s", what, errno ? strerror(errno) : "failed");
}

/* The byte at offset i of the object: checkable anywhere without a copy. */
static uint8_t pattern(size_t i) {
  return (uint8_t)((i * 2654435761u) >> 13);
}

static int listen_loopback(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(fd, 1) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
    fail("listen on 127.0.0.1");
  *port = ntohs(a.sin_port);
  return fd;
}

static int connect_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int one = 1;
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
    fail("connect to 127.0.0.1");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* One receiver: take the object from `in`, pass each piece to `out` (or
 * nowhere, the last), check a sample, tell the source on `done`. */
static void receiver(int listen_fd, int out_port, size_t nbytes, int done) {
  alarm(RECEIVER_ALARM_S);
  int in = accept(listen_fd, NULL, NULL);
  if (in < 0)
    _exit(2);
  int out = out_port ? connect_loopback((uint16_t)out_port) : -1;
  uint8_t *obj = mmap(NULL, nbytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (obj == MAP_FAILED)
    _exit(3);
  size_t got = 0;
  while (got < nbytes) {
    size_t want = nbytes - got < CHUNK ? nbytes - got : CHUNK;
    ssize_t r = read(in, obj + got, want);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      _exit(4);
    if (out >= 0 && write_all(out, obj + got, (size_t)r) != 0)
      _exit(5);
    got += (size_t)r;
  }
  uint8_t ok = 1;
  for (size_t i = 0; i < nbytes; i += 4093)
    if (obj[i] != pattern(i))
      ok = 0;
  if (obj[nbytes - 1] != pattern(nbytes - 1))
    ok = 0;
  if (write(done, &ok, 1) != 1)
    _exit(6);
  _exit(ok ? 0 : 7);
}

typedef struct {
  double seconds;
  double receivers_cpu_s;
} run_result;

static run_result one_run(const uint8_t *obj, size_t nbytes, int n) {
  uint16_t ports[MAX_RECEIVERS];
  int lfd[MAX_RECEIVERS];
  int done[2];
  if (pipe(done) != 0)
    fail("pipe");
  for (int i = 0; i < n; i++)
    lfd[i] = listen_loopback(&ports[i]);
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0)
      fail("fork");
    if (pid == 0) {
      close(done[0]);
      for (int j = 0; j < n; j++)
        if (j != i)
          close(lfd[j]);
      receiver(lfd[i], i + 1 < n ? ports[i + 1] : 0, nbytes, done[1]);
    }
    children[nchildren++] = pid;
  }
  close(done[1]);
  for (int i = 0; i < n; i++)
    close(lfd[i]);
  double t0 = bench_now_s();
  int first = connect_loopback(ports[0]);
  if (write_all(first, obj, nbytes) != 0)
    fail("send the object");
  int good = 0;
  for (int i = 0; i < n; i++) {
    uint8_t ok = 0;
    if (read(done[0], &ok, 1) != 1)
      fail("a receiver ended early");
    good += ok;
  }
  double t1 = bench_now_s();
  close(first);
  close(done[0]);
  run_result r = {.seconds = t1 - t0};
  for (int i = 0; i < nchildren; i++) {
    int status;
    struct rusage ru;
    if (wait4(children[i], &status, 0, &ru) < 0)
      fail("wait for a receiver");
    children[i] = 0;
    r.receivers_cpu_s +=
        (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  }
  nchildren = 0;
  if (good != n) {
    errno = 0;
    fail("a receiver got wrong bytes");
  }
  return r;
}

int main(int argc, char **argv) {
  size_t nbytes = 1u << 30;
  int counts[MAX_COUNTS] = {1, 2, 4, 8}, ncounts = 4, reps = 1;
  const char *json = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--bytes") && v) {
      uint64_t n;
      if (bench_parse_size(v, &n) != 0) {
        fprintf(stderr,
                "broadcast_floor: --bytes wants a size such as "
                "1GiB, not %s\n",
                v);
        return 2;
      }
      nbytes = (size_t)n;
      i++;
    } else if (!strcmp(a, "--receivers") && v) {
      ncounts = 0;
      for (const char *p = v; *p && ncounts < MAX_COUNTS;) {
        char *end;
        long c = strtol(p, &end, 10);
        if (end == p || c < 1 || c > MAX_RECEIVERS) {
          fprintf(stderr,
                  "broadcast_floor: --receivers wants counts from 1 "
                  "to 64 such as 1,2,4,8, not %s\n",
                  v);
          return 2;
        }
        counts[ncounts++] = (int)c;
        p = *end == ',' ? end + 1 : end;
      }
      i++;
    } else if (!strcmp(a, "--reps") && v) {
      reps = atoi(v);
      if (reps < 1 || reps > 99) {
        fprintf(stderr, "broadcast_floor: --reps wants 1 to 99\n");
        return 2;
      }
      i++;
    } else if (!strcmp(a, "--json") && v) {
      json = v;
      i++;
    } else {
      fprintf(stderr, "usage: broadcast_floor [--bytes 1GiB] [--receivers "
                      "1,2,4,8] [--reps 1] [--json FILE]\n");
      return 2;
    }
  }
  bench_name = "broadcast_floor";
  bench_cleanup = stop_children;
  signal(SIGPIPE, SIG_IGN);
  uint8_t *obj = malloc(nbytes);
  if (!obj)
    fail("allocate the object");
  for (size_t i = 0; i < nbytes; i++)
    obj[i] = pattern(i);

  FILE *out = json ? fopen(json, "w") : stdout;
  if (!out)
    fail("open the JSON file");
  fprintf(out,
          "{\n  \"bytes\": %zu,\n  \"chunk_bytes\": %u,\n"
          "  \"topology\": \"chain\",\n  \"floor\": [",
          nbytes, CHUNK);
  double base = 0;
  for (int c = 0; c < ncounts; c++) {
    double secs[99], cpu[99];
    for (int r = 0; r < reps; r++) {
      run_result rr = one_run(obj, nbytes, counts[c]);
      secs[r] = rr.seconds;
      cpu[r] = rr.receivers_cpu_s;
    }
    qsort(secs, (size_t)reps, sizeof secs[0], bench_cmp_double);
    qsort(cpu, (size_t)reps, sizeof cpu[0], bench_cmp_double);
    double med = secs[reps / 2];
    if (c == 0)
      base = med;
    fprintf(out,
            "%s\n    {\"receivers\": %d, \"seconds\": %.4f, "
            "\"receivers_cpu_s\": %.3f, \"vs_first\": %.3f}",
            c ? "," : "", counts[c], med, cpu[reps / 2], med / base);
    fprintf(stderr,
            "floor: %.0f MiB to %d: %.2f s (%.2fx the first), "
            "receivers' CPU %.1f s\n",
            (double)nbytes / (1 << 20), counts[c], med, med / base,
            cpu[reps / 2]);
  }
  fprintf(out, "\n  ]\n}\n");
  if (json)
    fclose(out);
  free(obj);
  return 0;
}
