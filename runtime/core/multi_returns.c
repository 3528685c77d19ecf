/*
 * Several return values (num_returns, manta_submit_returns): the call runs
 * as any call, with one result object the program never sees; a split
 * listens on that object and, once it is ready, completes the N objects
 * the program holds with the items of the list, or all N with the error.
 *
 * Because the hidden result is an ordinary object, this works wherever the
 * call runs: a result made on another node is fetched here for the split,
 * as for a get.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct split {
  mt_listener l;             /* on the hidden result */
  struct split *next, *prev; /* the pending ones (under rt.mu) */
  char *name;                /* the function, for error messages */
  size_t n;
  mt_object *parts[]; /* counted until completed */
} split;

static split *pending; /* under rt.mu */

static void unlink_locked(split *s) {
  if (s->prev) {
    s->prev->next = s->next;
  } else if (pending == s) {
    pending = s->next;
  }
  if (s->next) {
    s->next->prev = s->prev;
  }
  s->next = s->prev = NULL;
}

static void split_free(split *s) {
  free(s->name);
  free(s);
}

/* v (taken) is the whole result: one value per part, or one error for all
 * of them. */
static void complete_parts_locked(split *s, manta_value *v, mt_garbage *g) {
  size_t len = 0;
  bool is_list = manta_value_kind(v) == MANTA_KIND_LIST &&
                 manta_len(v, &len) == MANTA_OK && len == s->n;
  manta_value *err = NULL;
  if (manta_value_kind(v) == MANTA_KIND_ERROR) {
    err = v;
  } else if (manta_value_kind(v) == MANTA_KIND_LIST && !is_list) {
    err = mt_error_new(MANTA_ERR_TYPE, s->name,
                       "returned a list of %zu values; num_returns %zu wants "
                       "a list of %zu",
                       len, s->n, s->n);
  } else if (!is_list) {
    err = mt_error_new(MANTA_ERR_TYPE, s->name,
                       "returned %s, not a list; num_returns %zu wants a list "
                       "of %zu",
                       manta_kind_name(manta_value_kind(v)), s->n, s->n);
  }
  for (size_t i = 0; i < s->n; i++) {
    manta_value *part;
    if (err) {
      part = manta_value_ref(err);
    } else {
      const manta_value *item = NULL;
      manta_list_at(v, i, &item);
      part = manta_value_ref((manta_value *)item); /* frozen with the list */
    }
    if (s->parts[i]->state == MT_OBJ_PENDING) {
      mt_obj_complete_locked(s->parts[i], part, g);
    } else {
      mt_garbage_add(g, part);
    }
    mt_obj_release_locked(s->parts[i], g);
  }
  if (err != v) {
    mt_garbage_add(g, err);
  }
  mt_garbage_add(g, v);
}

/* Under the lock, from whoever completed the hidden result. */
static void on_result(void *ctx, mt_object *o, mt_garbage *g) {
  split *s = ctx;
  unlink_locked(s);
  complete_parts_locked(s, mt_obj_value_locked(o, g), g);
  mt_obj_release_locked(o, g); /* the hidden result: nobody else holds it */
  split_free(s);
}

/* A split for n parts whose errors name `kind name` ("function f"). */
static split *split_new(const char *kind, const char *name, size_t n) {
  split *s = calloc(1, sizeof *s + n * sizeof s->parts[0]);
  size_t len = strlen(kind) + 1 + strlen(name) + 1;
  char *origin = malloc(len);
  if (!s || !origin) {
    free(s);
    free(origin);
    return NULL;
  }
  snprintf(origin, len, "%s %s", kind, name);
  s->name = origin;
  s->n = n;
  return s;
}

/* Makes the n part refs of s (into out) and splits the call's result
 * `hidden` (its count taken) into them once it is ready; frees s. */
static manta_err split_result(split *s, manta_ref hidden, manta_ref *out) {
  manta_err err = MANTA_OK;
  size_t n = s->n;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *o = mt_rt.initialized ? mt_obj_lookup_locked(hidden.id) : NULL;
  for (size_t i = 0; o && i < n; i++) {
    uint64_t id = mt_obj_new_locked(&s->parts[i]);
    if (!id) {
      err = MANTA_ERR_NOMEM;
      break;
    }
    out[i].id = id;
    mt_obj_retain_locked(s->parts[i]); /* the split's count */
  }
  if (!o) {
    err = MANTA_ERR_SHUTDOWN; /* stopped between the call and here */
  } else if (err != MANTA_OK) {
    for (size_t i = 0; i < n && s->parts[i]; i++) {
      mt_obj_release_locked(s->parts[i], &g);
      mt_obj_release_locked(s->parts[i], &g);
    }
    mt_obj_release_locked(o, &g);
  } else {
    s->next = pending;
    if (pending) {
      pending->prev = s;
    }
    pending = s;
    mt_obj_when_ready_locked(o, &s->l, on_result, s, &g);
    s = NULL; /* on_result frees it */
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (s) {
    split_free(s);
  }
  return err;
}

manta_err manta_submit_returns(const char *name, const manta_value *const *args,
                               size_t nargs, const manta_call_options *opts,
                               manta_ref *out, size_t n) {
  size_t want = opts && opts->num_returns ? opts->num_returns : 1;
  if (!out || n != want || !name) {
    return MANTA_ERR_INVALID;
  }
  if (n == 1) {
    return mt_submit(name, args, nargs, opts, true, out); /* not split */
  }
  split *s = split_new("function", name, n);
  if (!s) {
    return MANTA_ERR_NOMEM;
  }
  manta_ref hidden;
  manta_err err = mt_submit(name, args, nargs, opts, true, &hidden);
  if (err != MANTA_OK) {
    split_free(s);
    return err;
  }
  return split_result(s, hidden, out);
}

manta_err manta_actor_call_returns(manta_actor actor, const char *method,
                                   const manta_value *const *args, size_t nargs,
                                   manta_ref *out, size_t n) {
  if (!out || !method || n == 0 || n > MT_MAX_RETURNS) {
    return MANTA_ERR_INVALID;
  }
  if (n == 1) {
    return manta_actor_call(actor, method, args, nargs, out);
  }
  split *s = split_new("method", method, n);
  if (!s) {
    return MANTA_ERR_NOMEM;
  }
  manta_ref hidden;
  manta_err err = manta_actor_call(actor, method, args, nargs, &hidden);
  if (err != MANTA_OK) {
    split_free(s);
    return err;
  }
  return split_result(s, hidden, out);
}

void mt_multi_returns_shutdown_locked(void) {
  while (pending) {
    split *s = pending;
    unlink_locked(s);
    mt_listener_remove_locked(&s->l);
    split_free(s);
  }
}
