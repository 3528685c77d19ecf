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
/* qsort's comparison of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

#endif
