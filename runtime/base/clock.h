/* The one clock: monotonic time for timeouts, intervals and deadlines;
 * wall time only where a moment is shown to a person (log stamps) or
 * mixed into a seed. */
#ifndef MT_CLOCK_H
#define MT_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Monotonic (CLOCK_MONOTONIC): never jumps with the wall clock. */
int64_t mt_now_ns(void);
int64_t mt_now_ms(void);

/* Wall time (CLOCK_REALTIME) in ns since the epoch. */
int64_t mt_wall_ns(void);

/* The monotonic moment timeout_ms from now, for pthread_cond_timedwait on
 * a condition variable set to CLOCK_MONOTONIC; now if timeout_ms < 0. */
void mt_deadline(int64_t timeout_ms, struct timespec *ts);
/* Initialises cv to time its waits on the monotonic clock (mt_deadline). */
void mt_cond_init(pthread_cond_t *cv);

#endif
