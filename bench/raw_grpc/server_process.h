/*
 * raw_grpc_bench's handle on its raw_grpc_server child: start it, learn its
 * port, and stop and reap it whatever happened in between.
 */
#ifndef MANTA_BENCH_RAW_GRPC_SERVER_PROCESS_H
#define MANTA_BENCH_RAW_GRPC_SERVER_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct server_process {
  pid_t pid;    /* 0 when not running */
  int stdin_fd; /* the child's stdin: closing it tells the child to stop */
  int stdout_fd;
  int port;
  int pollers; /* the server's polling threads, as it reported */
} server_process;

/* Starts `path --pollers N` (N <= 0: the server's default; with tls_dir,
 * `--tls DIR` too: mutual TLS) and waits up to
 * 10 s for its "port NNNN" and "pollers N" lines. Must run before grpc_init: a
 * fork after gRPC has started its threads is not safe. On failure writes why
 * into err and returns -1, with no child left behind. */
int server_process_start(server_process *sp, const char *path, int pollers,
                         const char *tls_dir, char *err, size_t errlen);

/* Closes the child's stdin (its signal to shut down cleanly), waits up to
 * 15 s, then sends SIGTERM, then SIGKILL, and reaps it. Returns 0 if the
 * child exited with status 0, else -1 with the reason in err. Safe to call
 * on a handle that is not running. */
int server_process_stop(server_process *sp, char *err, size_t errlen);

#endif
