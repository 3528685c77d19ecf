/*
 * The timeline (docs/observability.md): when on, what each worker thread
 * runs is noted in a ring of its own; `manta timeline` gathers the rings
 * of every node as Chrome trace events.
 *
 * An event is a run of consecutive calls of one function (or one actor's
 * method) by one worker: a worker that takes a batch of 64 calls of `add`
 * notes one event of 64 calls, and the clock is read only where the
 * function changes, beyond the two reads per batch the scheduler already
 * makes. A call that runs alone (a long task, each of a batch of
 * different functions) is an event of its own with its exact times.
 *
 * Off by default. Off, a worker reads one relaxed atomic per batch or
 * actor turn and nothing else.
 */
#ifndef MT_TIMELINE_H
#define MT_TIMELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Events each worker thread keeps (the oldest are overwritten); 0: off. */
extern _Atomic int64_t mt_timeline_capacity;
#define MT_TIMELINE_DEFAULT 16384
#define MT_TIMELINE_MAX (1 << 22)

static inline bool mt_timeline_on(void) {
  return atomic_load_explicit(&mt_timeline_capacity, memory_order_relaxed) > 0;
}

/* A run of calls as gathered (names copied, times on the wall clock). */
typedef struct mt_tl_event {
  int64_t start_ns, end_ns; /* CLOCK_REALTIME: comparable across nodes */
  uint64_t id;              /* the ref of the first call's result */
  uint32_t calls;           /* how many ran one after another */
  int worker;               /* thread number on this node, from 1 */
  uint8_t kind;             /* MT_TASK_FUNCTION, _ACTOR_CALL, _ACTOR_CREATE */
  char name[96];            /* "add", "Counter.add" (cut to fit) */
} mt_tl_event;

/* A run being noted by a worker (its stack). */
typedef struct mt_tl_run {
  const void *first; /* struct mt_task of the first call; NULL: none yet */
  const void *what;  /* its function or method: a run ends where it changes */
  uint32_t calls;
  int64_t start_ns; /* CLOCK_MONOTONIC */
} mt_tl_run;

/* manta_init: MANTA_TIMELINE (events per worker, "1" or "on": the
 * default) sets the capacity; rings of an earlier runtime are dropped.
 * false with a logged error for a bad value. */
bool mt_timeline_init(void);
/* The clock runs are stamped with (CLOCK_MONOTONIC, ns). */
int64_t mt_timeline_now(void);
/* A call t (struct mt_task) about to run in run r: a call of another
 * function than r's ends r (noted, ending now) and starts the next. */
void mt_timeline_call(mt_tl_run *r, const void *t, int64_t batch_start_ns);
/* The run ends at end_ns (the batch's end): noted if it holds calls. */
void mt_timeline_end(mt_tl_run *r, int64_t end_ns);
/* Sets the events each worker keeps (manta_timeline_enable); turning it on
 * or resizing empties every ring, turning it off (0) keeps them. */
void mt_timeline_set_capacity(int64_t events);
/* Copies every ring's events (oldest first per ring) into a malloc'd
 * array, names resolved (takes rt.mu: none once the runtime stopped);
 * *dropped counts those overwritten. false on OOM. */
bool mt_timeline_copy(mt_tl_event **out, size_t *n, uint64_t *dropped);

#endif
