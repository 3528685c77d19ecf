/*
 * What code under rt.mu drops: values, actor destructors and deferred calls
 * (completion callbacks) collected in an mt_garbage list and run or freed
 * once the lock is released (freeing a value may
 * release refs inside it, which takes rt.mu again).
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

void mt_garbage_init(mt_garbage *g) {
  g->items = g->inline_items;
  g->len = 0;
  g->cap = sizeof g->inline_items / sizeof g->inline_items[0];
  g->dtors = NULL;
  g->calls = NULL;
  g->calls_tail = &g->calls;
}

void mt_garbage_add_call(mt_garbage *g, mt_call_job *job) {
  job->next = NULL;
  *g->calls_tail = job;
  g->calls_tail = &job->next;
}

void mt_garbage_add_dtor(mt_garbage *g, manta_actor_dtor fn, void *state,
                         void *class_data) {
  if (!fn) {
    return;
  }
  mt_dtor_job *job = malloc(sizeof *job);
  if (!job) {
    mt_log(MT_LOG_ERROR, "out of memory: an actor's destructor is skipped");
    return;
  }
  *job = (mt_dtor_job){g->dtors, fn, state, class_data};
  g->dtors = job;
}

void mt_garbage_add(mt_garbage *g, manta_value *v) {
  if (!v) {
    return;
  }
  if (g->len == g->cap) {
    size_t cap = g->cap * 2;
    manta_value **items = g->items == g->inline_items
                              ? malloc(cap * sizeof *items)
                              : realloc(g->items, cap * sizeof *items);
    if (!items) {
      /* Freeing here could re-enter the lock; leaking is the safe choice. */
      mt_log(MT_LOG_ERROR, "out of memory: leaking a value");
      return;
    }
    if (g->items == g->inline_items) {
      memcpy(items, g->inline_items, g->len * sizeof *items);
    }
    g->items = items;
    g->cap = cap;
  }
  g->items[g->len++] = v;
}

void mt_garbage_free(mt_garbage *g) {
  while (g->calls) {
    mt_call_job *job = g->calls;
    g->calls = job->next;
    job->fn(job); /* may free job */
  }
  while (g->dtors) {
    mt_dtor_job *job = g->dtors;
    g->dtors = job->next;
    job->fn(job->state, job->class_data);
    free(job);
  }
  for (size_t i = 0; i < g->len; i++) {
    manta_value_free(g->items[i]);
  }
  if (g->items != g->inline_items) {
    free(g->items);
  }
  mt_garbage_init(g);
}
