/* manta_log_set_handler and manta_log_set_level: the public face of the
 * log's sink and level (base/log.h), which knows nothing of manta.h's
 * types. */
#include "log.h"
#include "manta.h"

#include <pthread.h>

_Static_assert((int)MANTA_LOG_ERROR == (int)MT_LOG_ERROR &&
                   (int)MANTA_LOG_WARN == (int)MT_LOG_WARN &&
                   (int)MANTA_LOG_INFO == (int)MT_LOG_INFO &&
                   (int)MANTA_LOG_DEBUG == (int)MT_LOG_DEBUG,
               "manta_log_level and mt_log_level must agree");

/* The program's handler. Written only while the log has no sink (so no
 * line is reading it) and read only by lines inside the sink; set_mu
 * keeps two callers of manta_log_set_handler apart. */
static pthread_mutex_t set_mu = PTHREAD_MUTEX_INITIALIZER;
static manta_log_handler handler_fn;
static void *handler_arg;

static void to_handler(mt_log_level level, const char *msg, void *arg) {
  (void)arg;
  handler_fn((manta_log_level)level, msg, handler_arg);
}

void manta_log_set_handler(manta_log_handler handler, void *arg) {
  pthread_mutex_lock(&set_mu);
  mt_log_set_sink(NULL, NULL); /* waits for lines inside the old handler */
  handler_fn = handler;
  handler_arg = arg;
  if (handler) {
    mt_log_set_sink(to_handler, NULL);
  }
  pthread_mutex_unlock(&set_mu);
}

manta_err manta_log_set_level(manta_log_level level) {
  if ((int)level < (int)MANTA_LOG_ERROR || (int)level > (int)MANTA_LOG_DEBUG) {
    return MANTA_ERR_INVALID;
  }
  mt_log_set_level((mt_log_level)level);
  return MANTA_OK;
}

manta_log_level manta_log_get_level(void) {
  return (manta_log_level)mt_log_get_level();
}
