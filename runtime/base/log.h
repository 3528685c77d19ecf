/* The log: one line per event, filtered by MANTA_LOG (error, warn, info,
 * debug; default warn) or the level a program set, written to stderr or handed
 * to the sink a program set (manta_log_set_handler). Shared by every layer. */
#ifndef MT_LOG_H
#define MT_LOG_H

typedef enum mt_log_level {
  MT_LOG_ERROR = 0,
  MT_LOG_WARN = 1,
  MT_LOG_INFO = 2,
  MT_LOG_DEBUG = 3
} mt_log_level;

void mt_log(mt_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Whether a message of this level would be written. */
int mt_log_enabled(mt_log_level level);

/* The most detailed level written from now on, replacing MANTA_LOG's. */
void mt_log_set_level(mt_log_level level);
/* The level in force. */
mt_log_level mt_log_get_level(void);

/* Receives each line's message (no prefix, no newline) instead of stderr. */
typedef void (*mt_log_sink)(mt_log_level level, const char *msg, void *arg);

/* Sends lines to sink(…, arg) from now on; NULL: to stderr again. When it
 * returns, no thread is still inside the previous sink, so its arg may be
 * freed (unless it is called from inside that sink). A line logged from
 * inside the sink goes to stderr. */
void mt_log_set_sink(mt_log_sink sink, void *arg);

#endif
