/* The response both benchmark servers send: 10 KiB of /metrics-like text. */
#include <stdio.h>
#include <string.h>

static char bench_body[10240];

static size_t bench_body_fill(void) {
  size_t n = 0;
  for (int i = 0; n + 120 < sizeof bench_body; i++) {
    n += (size_t)snprintf(bench_body + n, sizeof bench_body - n,
                          "manta_tasks_finished_total{function=\"fn_%04d\"} "
                          "%d\n",
                          i, i * 7);
  }
  memset(bench_body + n, '#', sizeof bench_body - n - 1);
  bench_body[sizeof bench_body - 1] = '\n';
  return sizeof bench_body;
}
