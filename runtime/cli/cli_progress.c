/* A progress bar for the manta command: see cli_progress.h. */
#include "cli_progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_begin(cli_progress *p, const char *what, size_t total) {
  memset(p, 0, sizeof *p);
  p->what = what;
  p->total = total;
  p->start_s = now_s();
  const char *env = getenv("MANTA_PROGRESS");
  if (env && strcmp(env, "1") == 0) {
    p->bar = true;
  } else if (env && strcmp(env, "0") == 0) {
    p->bar = false;
  } else {
    p->bar = isatty(STDERR_FILENO) != 0;
  }
  cli_progress_set(p, 0);
}

static void draw(cli_progress *p) {
  enum { WIDTH = 24 };
  double elapsed = now_s() - p->start_s;
  double frac = p->total ? (double)p->done / (double)p->total : 1.0;
  char bar[WIDTH + 1];
  for (int i = 0; i < WIDTH; i++) {
    bar[i] = i < (int)(frac * WIDTH) ? '#' : '.';
  }
  bar[WIDTH] = '\0';
  double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
  char eta[32];
  if (p->done >= p->total) {
    snprintf(eta, sizeof eta, "done in %.1f s", elapsed);
  } else if (rate > 0) {
    snprintf(eta, sizeof eta, "ETA %.0f s",
             (double)(p->total - p->done) / rate + 0.5);
  } else {
    snprintf(eta, sizeof eta, "ETA --");
  }
  /* \r and an erase to the end of the line: a shorter line leaves no
   * rest of the longer one behind. */
  fprintf(stderr, "\r%s [%s] %zu/%zu  %.1f/s  %s\033[K", p->what, bar, p->done,
          p->total, rate, eta);
  fflush(stderr);
  p->visible = true;
}

void cli_progress_set(cli_progress *p, size_t done) {
  p->done = done > p->total ? p->total : done;
  if (!p->bar) {
    return;
  }
  double t = now_s();
  if (p->visible && t - p->drawn_s < 0.1 && p->done < p->total) {
    return;
  }
  p->drawn_s = t;
  draw(p);
}

void cli_progress_say(cli_progress *p, const char *fmt, ...) {
  if (p->visible) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    p->visible = false;
  }
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
  if (p->bar) {
    draw(p);
  }
}

void cli_progress_end(cli_progress *p) {
  if (p->bar) {
    draw(p);
    fputc('\n', stderr);
    p->visible = false;
  }
}
