/*
 * The recent errors of this node, for the dashboard (/api/node): the last
 * MT_ERRLOG_SIZE tasks and actor calls that ran here and returned an error,
 * with what ran, the error's code, message and origin. A fixed ring under
 * rt.mu: noting one costs a few copies, only when a call failed.
 */
#ifndef MT_ERRLOG_H
#define MT_ERRLOG_H

#include <stddef.h>
#include <stdint.h>

#define MT_ERRLOG_SIZE 64

typedef struct mt_errlog_entry {
  int64_t time_ms; /* wall clock, ms since the epoch */
  int code;        /* manta_err */
  char what[160];  /* "function f", "actor Counter.add" */
  char message[400];
  char origin[300];
} mt_errlog_entry;

struct mt_task;
/* t ran here and its result v is an error: note it (rt.mu). */
void mt_errlog_note_locked(const struct mt_task *t, const void *v);
/* Copies the notes, newest first, into out[max]; how many (rt.mu). */
size_t mt_errlog_copy_locked(mt_errlog_entry *out, size_t max);
/* Total noted since the process started (the ring keeps the last ones). */
uint64_t mt_errlog_total_locked(void);

#endif
