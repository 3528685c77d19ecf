/* The ring of recent errors (errlog.h). */
#include "errlog.h"
#include "rt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static mt_errlog_entry ring[MT_ERRLOG_SIZE]; /* rt.mu */
static uint64_t noted;                       /* rt.mu; next slot: % SIZE */

void mt_errlog_note_locked(const struct mt_task *t, const void *v) {
  const manta_value *err = v;
  mt_errlog_entry *e = &ring[noted % MT_ERRLOG_SIZE];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  e->time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  e->code = (int)manta_error_code(err);
  const char *callee = mt_task_callee(t);
  if (t->kind == MT_TASK_FUNCTION) {
    snprintf(e->what, sizeof e->what, "function %s", callee ? callee : "?");
  } else {
    snprintf(e->what, sizeof e->what, "actor %s.%s",
             t->actor ? mt_actor_class_name(t->actor) : "?",
             callee ? callee : "?");
  }
  snprintf(e->message, sizeof e->message, "%s", manta_error_message(err));
  snprintf(e->origin, sizeof e->origin, "%s", manta_error_origin(err));
  noted++;
}

size_t mt_errlog_copy_locked(mt_errlog_entry *out, size_t max) {
  size_t n = noted < MT_ERRLOG_SIZE ? (size_t)noted : MT_ERRLOG_SIZE;
  if (n > max) {
    n = max;
  }
  for (size_t i = 0; i < n; i++) {
    out[i] = ring[(noted - 1 - i) % MT_ERRLOG_SIZE];
  }
  return n;
}

uint64_t mt_errlog_total_locked(void) {
  return noted;
}
