/*
 * Progress of a long CLI operation (manta stop of many nodes): on a
 * terminal, one line on stderr redrawn in place, a bar with the count, the
 * rate and the time left; otherwise nothing of its own, since the
 * operation's plain lines (one per item, on stdout) already say how far it
 * is. Lines printed while a bar is drawn go above it (cli_progress_say).
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cli_progress {
  const char *what; /* "stopping nodes" */
  size_t total, done;
  double start_s, drawn_s;
  bool bar;     /* drawing on a terminal */
  bool visible; /* a bar line is on the screen now */
} cli_progress;

/* A bar when stderr is a terminal and MANTA_PROGRESS is not "0" (or when
 * it is "1", terminal or not: for tests and scripts that want the bar). */
void cli_progress_begin(cli_progress *p, const char *what, size_t total);
/* done of total are over; redraws at most 10 times a second (always for
 * the last). */
void cli_progress_set(cli_progress *p, size_t done);
/* Prints a line on stdout, above the bar when one is drawn. */
void cli_progress_say(cli_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Leaves the bar at its last state on its own line. */
void cli_progress_end(cli_progress *p);

#endif
