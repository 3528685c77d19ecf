/*
 * What several benchmark programs need alike: clocks (wall, this process's
 * CPU, a child's CPU) and sizes written as "64MiB".
 */
#ifndef MANTA_BENCH_UTIL_H
#define MANTA_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic wall time in seconds. */
double bench_now_s(void);

/* CPU time this process has used, all threads. */
double bench_self_cpu_s(void);

/* User plus system time of another process, from /proc (10 ms
 * resolution); 0 if it cannot be read. */
double bench_pid_cpu_s(pid_t pid);

/* "64MiB", "1GiB", "512KiB", "4096": a size in bytes, above 0 and at most
 * 1 TiB. Returns -1 for anything else. */
int bench_parse_size(const char *text, uint64_t *out);

/* A duration in seconds for --seconds: above 0 and at most 3600. Returns
 * -1 for anything else. */
int bench_parse_seconds(const char *text, double *out);

/* The shortest such name of a size: 64MiB, 1GiB, 1536KiB, 100B. */
void bench_format_size(char *out, size_t len, uint64_t bytes);
/* What bench_die prints first (the program's name) and runs before it
 * exits (stopping the processes the program started; may be NULL). */
extern const char *bench_name;
extern void (*bench_cleanup)(void);
/* "name: message" on stderr, then bench_cleanup, then exit(1). */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* bench_die naming expr and its error unless expr gives MANTA_OK (in a
 * program that includes manta.h). */
#define BENCH_OK(expr)                                                         \
  do {                                                                         \
    manta_err e_ = (expr);                                                     \
    if (e_ != MANTA_OK) {                                                      \
      bench_die("%s: %s", #expr, manta_strerror(e_));                          \
    }                                                                          \
  } while (0)
/* Runs `manta start --foreground ARGS...` (args: NULL-terminated, at most
 * 20) in a child and reads the address from its first line (" ready at
 * ADDR"); returns the child's pid (bench_die if it does not start). */
pid_t bench_manta_start(const char *manta, const char *const *args,
                        char address[128]);
/* The options of a benchmark that starts its own cluster processes:
 * --manta PATH --module PATH [--rounds N] [--json FILE]. */
typedef struct bench_cluster_args {
  const char *manta, *module, *json;
  int rounds; /* set to the default before parsing */
} bench_cluster_args;
/* Parses argv into *a; on anything unknown, missing or rounds outside
 * 1..max_rounds prints the usage line and exits with 2. */
void bench_parse_cluster_args(int argc, char **argv, int max_rounds,
                              bench_cluster_args *a);
/* qsort's comparison of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

#endif
