/*
 * How many times a task may run: after its node died (the cluster sends
 * it elsewhere, task_send.c) and, with retry_exceptions, after its
 * function returned an error (mt_task_invoke runs it again). The count is
 * decided here only, so every path that runs a task again agrees on it.
 */
#include "task_context.h"

#include <stdio.h>
#include <string.h>

void mt_retry_init_locked(mt_task *t, const manta_call_options *opts) {
  t->max_retries = opts ? (int16_t)opts->max_retries : MT_DEFAULT_MAX_RETRIES;
  t->retry_exceptions = opts && opts->retry_exceptions;
  t->attempt = (int16_t)(opts && opts->attempt > 0 && opts->attempt < INT16_MAX
                             ? opts->attempt
                             : 1);
  static const uint8_t none[16];
  mt_task_extra *x;
  if (opts && memcmp(opts->task_id, none, sizeof none) != 0 &&
      (x = mt_task_extra_get_locked(t))) {
    x->has_task_id = true; /* a call another node sent: its id there */
    memcpy(x->task_id, opts->task_id, sizeof x->task_id);
  }
}

bool mt_retry_allowed(int attempts, int max_retries) {
  return max_retries < 0 || attempts <= max_retries;
}

void mt_retry_describe(char *buf, size_t size, int attempt, int max_retries,
                       const char *where) {
  if (max_retries < 0) {
    snprintf(buf, size, " (attempt %d, retried with no end, on node %s)",
             attempt, where);
  } else {
    snprintf(buf, size, " (attempt %d of %d on node %s)", attempt,
             max_retries + 1, where);
  }
}

manta_value *mt_retry_annotate(const mt_task *t, manta_value *err,
                               const char *where) {
  char here[24], tail[200];
  if (!where) {
    where = mt_task_node_address();
  }
  if (!where) {
    snprintf(here, sizeof here, "%016llx", (unsigned long long)mt_rt.node_id);
    where = here;
  }
  mt_retry_describe(tail, sizeof tail, t->attempt < 1 ? 1 : (int)t->attempt,
                    t->max_retries, where);
  const manta_value *cause = manta_error_cause(err);
  manta_value *out =
      mt_error_new(manta_error_code(err), manta_error_origin(err), "%s%s",
                   manta_error_message(err), tail);
  if (!out) {
    return err; /* as it was, rather than none */
  }
  if (cause) {
    manta_error_set_cause(out, manta_value_ref((manta_value *)cause));
  }
  manta_value_free(err);
  return out;
}

manta_err manta_call_options_set_max_retries(manta_call_options *opts,
                                             int max_retries) {
  if (!opts || max_retries < -1 || max_retries > INT16_MAX) {
    return MANTA_ERR_INVALID;
  }
  opts->max_retries = max_retries;
  return MANTA_OK;
}

manta_err manta_call_options_set_retry_exceptions(manta_call_options *opts,
                                                  int retry) {
  if (!opts) {
    return MANTA_ERR_INVALID;
  }
  opts->retry_exceptions = retry != 0;
  return MANTA_OK;
}
