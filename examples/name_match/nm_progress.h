/* A progress line on stderr for long runs: records done, rate, ETA. */
#ifndef NM_PROGRESS_H
#define NM_PROGRESS_H

#include <stddef.h>

typedef struct nm_progress {
  int on;
  const char *label;
  double total, start, last_draw;
  size_t width; /* of the last line drawn, to blank it */
} nm_progress;

/* Which runs draw: NM_PROGRESS_AUTO draws when stderr is a terminal. */
enum { NM_PROGRESS_OFF = 0, NM_PROGRESS_ON = 1, NM_PROGRESS_AUTO = 2 };

void nm_progress_start(nm_progress *p, const char *label, double total,
                       int mode);
/* Redraws at most 10 times a second. */
void nm_progress_update(nm_progress *p, double done);
/* Erases the line. */
void nm_progress_end(nm_progress *p);

/* Seconds on a monotonic clock. */
double nm_now(void);

#endif
