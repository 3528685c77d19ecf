#include "nm_progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double nm_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void nm_progress_start(nm_progress *p, const char *label, double total,
                       int mode) {
  memset(p, 0, sizeof *p);
  p->on = mode == NM_PROGRESS_AUTO ? isatty(STDERR_FILENO) : mode;
  p->label = label;
  p->total = total;
  p->start = nm_now();
  p->last_draw = 0;
}

void nm_progress_update(nm_progress *p, double done) {
  if (!p->on) {
    return;
  }
  double now = nm_now();
  if (now - p->last_draw < 0.1 && done < p->total) {
    return;
  }
  p->last_draw = now;
  double elapsed = now - p->start;
  double rate = elapsed > 0 ? done / elapsed : 0;
  double frac = p->total > 0 ? done / p->total : 1;
  enum { BAR = 24 };
  char bar[BAR + 1];
  for (int i = 0; i < BAR; i++) {
    bar[i] = i < (int)(frac * BAR) ? '#' : '.';
  }
  bar[BAR] = '\0';
  char eta[32] = "--";
  if (rate > 0 && done < p->total) {
    double left = (p->total - done) / rate;
    if (left >= 3600) {
      snprintf(eta, sizeof eta, "%dh%02dm", (int)(left / 3600),
               (int)(left / 60) % 60);
    } else {
      snprintf(eta, sizeof eta, "%dm%02ds", (int)(left / 60), (int)left % 60);
    }
  } else if (done >= p->total) {
    snprintf(eta, sizeof eta, "done");
  }
  int w =
      fprintf(stderr, "\r%s [%s] %3.0f%% %.0f/%.0f records  %.1f/s  ETA %s ",
              p->label, bar, frac * 100, done, p->total, rate, eta);
  p->width = w > 0 ? (size_t)w : 0;
  fflush(stderr);
}

void nm_progress_end(nm_progress *p) {
  if (p->on && p->width > 0) {
    fprintf(stderr, "\r%*s\r", (int)p->width - 1, "");
    fflush(stderr);
  }
  p->on = 0;
}
