/* The log: one line per event on stderr, filtered by MANTA_LOG (error,
 * warn, info, debug; default warn). Shared by every layer. */
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

#endif
