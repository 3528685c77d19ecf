#include "bench_util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_self_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_pid_cpu_s(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) {
    return 0;
  }
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* Fields after the parenthesised name: state is the 3rd, utime the 14th
   * and stime the 15th. */
  char *p = strrchr(buf, ')');
  unsigned long long utime, stime;
  if (!p ||
      sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
             &utime, &stime) != 2) {
    return 0;
  }
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

int bench_parse_size(const char *text, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(text, &end, 10);
  if (errno || end == text || text[0] == '-') {
    return -1;
  }
  unsigned shift = 0;
  if (strcmp(end, "KiB") == 0) {
    shift = 10;
  } else if (strcmp(end, "MiB") == 0) {
    shift = 20;
  } else if (strcmp(end, "GiB") == 0) {
    shift = 30;
  } else if (*end) {
    return -1;
  }
  if (n == 0 || n > (1ull << 40) >> shift) {
    return -1;
  }
  *out = (uint64_t)n << shift;
  return 0;
}

int bench_parse_seconds(const char *text, double *out) {
  char *end;
  double s = strtod(text, &end);
  if (end == text || *end || !(s > 0 && s <= 3600)) {
    return -1;
  }
  *out = s;
  return 0;
}

void bench_format_size(char *out, size_t len, uint64_t bytes) {
  if (bytes % (1ull << 30) == 0) {
    snprintf(out, len, "%lluGiB", (unsigned long long)(bytes >> 30));
  } else if (bytes % (1ull << 20) == 0) {
    snprintf(out, len, "%lluMiB", (unsigned long long)(bytes >> 20));
  } else if (bytes % (1ull << 10) == 0) {
    snprintf(out, len, "%lluKiB", (unsigned long long)(bytes >> 10));
  } else {
    snprintf(out, len, "%lluB", (unsigned long long)bytes);
  }
}

int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

const char *bench_name = "bench";
void (*bench_cleanup)(void);

void bench_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", bench_name);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  if (bench_cleanup) {
    bench_cleanup();
  }
  exit(1);
}

pid_t bench_manta_start(const char *manta, const char *const *args,
                        char address[128]) {
  const char *argv[24] = {manta, "start", "--foreground"};
  int n = 3;
  for (int i = 0; args[i] && n < 23; i++) {
    argv[n++] = args[i];
  }
  argv[n] = NULL;
  int fds[2];
  if (pipe(fds) != 0) {
    bench_die("pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execv(manta, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[300] = "";
  if (!f || !fgets(line, sizeof line, f)) {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
    }
    bench_die("%s did not start", manta);
  }
  fclose(f);
  const char *at = strstr(line, " ready at ");
  if (!at || sscanf(at + 10, "%127s", address) != 1) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    bench_die("no address in the first line: %s", line);
  }
  return pid;
}

void bench_parse_cluster_args(int argc, char **argv, int max_rounds,
                              bench_cluster_args *a) {
  bool ok = true;
  for (int i = 1; i < argc && ok; i++) {
    bool has_value = i + 1 < argc;
    if (strcmp(argv[i], "--manta") == 0 && has_value) {
      a->manta = argv[++i];
    } else if (strcmp(argv[i], "--module") == 0 && has_value) {
      a->module = argv[++i];
    } else if (strcmp(argv[i], "--json") == 0 && has_value) {
      a->json = argv[++i];
    } else if (strcmp(argv[i], "--rounds") == 0 && has_value) {
      a->rounds = atoi(argv[++i]);
    } else {
      ok = false;
    }
  }
  if (!ok || !a->manta || !a->module || a->rounds < 1 ||
      a->rounds > max_rounds) {
    fprintf(stderr,
            "usage: %s --manta PATH --module PATH [--rounds 1..%d] "
            "[--json FILE]\n",
            bench_name, max_rounds);
    exit(2);
  }
}
