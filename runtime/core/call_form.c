/*
 * The short call form (manta.h, "Calls, the short form"): calls that take
 * over their argument values, variadic and array forms, and call-and-get.
 * Each is a thin layer over manta_submit, manta_actor_create and
 * manta_actor_call, which borrow (and freeze) the values they are given:
 * here the caller's reference is dropped once the runtime holds its own,
 * so a caller writes constructors straight into the call and frees
 * nothing. (Its two constructors, manta_str and manta_ref_take, are values:
 * runtime/value/value.c.)
 */
#include "rt.h"

#include <stdarg.h>
#include <stdlib.h>

/* Values a variadic call collects on the stack before it needs the heap. */
#define ARGS_ON_STACK 8

/* ---- taking the arguments ----------------------------------------------- */

/* The values of a call, taken from the caller: in a stack buffer or, past
 * ARGS_ON_STACK, on the heap. */
typedef struct taken_args {
  manta_value *stack[ARGS_ON_STACK];
  manta_value **v;
  size_t n;
  size_t null_at; /* index + 1 of the first NULL argument, 0 if none */
  bool oom;       /* the heap array could not be made */
  bool heap;      /* v was allocated here (not the stack, not the caller's) */
} taken_args;

static void taken_scan(taken_args *t) {
  t->null_at = 0;
  for (size_t i = 0; i < t->n && !t->null_at; i++) {
    if (!t->v[i]) {
      t->null_at = i + 1;
    }
  }
}

/* Collects nargs values from ap. On OOM they are freed as they are read
 * (each was the caller's to give). */
static void taken_from_va(taken_args *t, size_t nargs, va_list ap) {
  t->n = nargs;
  t->oom = false;
  t->heap = nargs > ARGS_ON_STACK;
  t->v = t->heap ? malloc(nargs * sizeof *t->v) : t->stack;
  if (!t->v) {
    for (size_t i = 0; i < nargs; i++) {
      manta_value_free(va_arg(ap, manta_value *));
    }
    t->oom = true;
    t->n = 0;
    return;
  }
  for (size_t i = 0; i < nargs; i++) {
    t->v[i] = va_arg(ap, manta_value *);
  }
  taken_scan(t);
}

static void taken_from_array(taken_args *t, manta_value **args, size_t nargs) {
  t->v = args;
  t->n = args ? nargs : 0;
  t->oom = false;
  t->heap = false; /* the array stays the caller's */
  taken_scan(t);
}

/* Drops the caller's references (the runtime holds its own by now). */
static void taken_free(taken_args *t) {
  for (size_t i = 0; i < t->n; i++) {
    manta_value_free(t->v[i]);
  }
  if (t->heap) {
    free(t->v);
  }
  t->v = NULL;
  t->n = 0;
}

/* Why the arguments cannot be used (MANTA_OK: they can). args NULL with
 * nargs > 0 is the caller's mistake, not a constructor's. */
static manta_err taken_check(const taken_args *t, manta_value **array,
                             size_t nargs, bool from_array) {
  if (t->oom) {
    return MANTA_ERR_NOMEM;
  }
  if (from_array && nargs > 0 && !array) {
    return MANTA_ERR_INVALID;
  }
  return t->null_at ? MANTA_ERR_NOMEM : MANTA_OK;
}

static const manta_value *const *as_borrowed(const taken_args *t) {
  /* The runtime freezes what it is given: the values are the runtime's
   * from here on, so the const view only states that this call will not
   * replace them. */
  return (const manta_value *const *)t->v;
}

/* ---- the error a *_get form gives --------------------------------------- */

static manta_value *call_error(manta_err err, const char *what,
                               const char *name, const taken_args *t) {
  if (err == MANTA_ERR_NOMEM && t->null_at) {
    return mt_error_new(err, name ? name : what,
                        "argument %zu of %s is NULL: its constructor failed "
                        "(out of memory, or NULL data)",
                        t->null_at, name ? name : what);
  }
  return mt_error_new(err, name ? name : what, "%s of %s failed: %s", what,
                      name ? name : "(no name)", manta_strerror(err));
}

/* ---- tasks -------------------------------------------------------------- */

static manta_err call_taken(manta_ref *out, const char *name, taken_args *t,
                            manta_value **array, size_t nargs, bool from_array,
                            const manta_call_options *opts) {
  manta_err err = taken_check(t, array, nargs, from_array);
  if (err == MANTA_OK) {
    err = out && name ? manta_submit(name, as_borrowed(t), t->n, opts, out)
                      : MANTA_ERR_INVALID;
  }
  return err;
}

manta_err manta_callv(manta_ref *out, const char *name, manta_value **args,
                      size_t nargs, const manta_call_options *opts) {
  taken_args t;
  taken_from_array(&t, args, nargs);
  manta_err err = call_taken(out, name, &t, args, nargs, true, opts);
  taken_free(&t);
  return err;
}

manta_err manta_call(manta_ref *out, const char *name, size_t nargs, ...) {
  taken_args t;
  va_list ap;
  va_start(ap, nargs);
  taken_from_va(&t, nargs, ap);
  va_end(ap);
  manta_err err = call_taken(out, name, &t, NULL, nargs, false, NULL);
  taken_free(&t);
  return err;
}

/* Waits for ref's result into *out (which may be NULL), then releases ref. */
static manta_err get_release(manta_ref ref, int64_t timeout_ms,
                             manta_value **out) {
  manta_err err = manta_get(ref, timeout_ms, out);
  manta_ref_release(ref);
  return err;
}

static manta_err call_get_va(manta_value **out, int64_t timeout_ms,
                             const char *name, size_t nargs, va_list ap) {
  taken_args t;
  taken_from_va(&t, nargs, ap);
  manta_ref ref;
  manta_err err = call_taken(&ref, name, &t, NULL, nargs, false, NULL);
  if (err == MANTA_OK) {
    err = get_release(ref, timeout_ms, out);
  } else if (out) {
    *out = call_error(err, "call", name, &t);
  }
  taken_free(&t);
  return err;
}

manta_err manta_call_get(manta_value **out, const char *name, size_t nargs,
                         ...) {
  va_list ap;
  va_start(ap, nargs);
  manta_err err = call_get_va(out, MANTA_FOREVER, name, nargs, ap);
  va_end(ap);
  return err;
}

manta_err manta_call_get_timeout(manta_value **out, int64_t timeout_ms,
                                 const char *name, size_t nargs, ...) {
  va_list ap;
  va_start(ap, nargs);
  manta_err err = call_get_va(out, timeout_ms, name, nargs, ap);
  va_end(ap);
  return err;
}

/* ---- actors ------------------------------------------------------------- */

static manta_err new_taken(manta_actor *out, const char *class_name,
                           taken_args *t, manta_value **array, size_t nargs,
                           bool from_array, const manta_call_options *opts) {
  manta_err err = taken_check(t, array, nargs, from_array);
  if (err == MANTA_OK) {
    err = manta_actor_create(class_name, as_borrowed(t), t->n, opts, out);
  }
  return err;
}

manta_err manta_actor_newv(manta_actor *out, const char *class_name,
                           manta_value **args, size_t nargs,
                           const manta_call_options *opts) {
  taken_args t;
  taken_from_array(&t, args, nargs);
  manta_err err = new_taken(out, class_name, &t, args, nargs, true, opts);
  taken_free(&t);
  return err;
}

manta_err manta_actor_new(manta_actor *out, const char *class_name,
                          size_t nargs, ...) {
  taken_args t;
  va_list ap;
  va_start(ap, nargs);
  taken_from_va(&t, nargs, ap);
  va_end(ap);
  manta_err err = new_taken(out, class_name, &t, NULL, nargs, false, NULL);
  taken_free(&t);
  return err;
}

static manta_err invoke_taken(manta_ref *out, manta_actor actor,
                              const char *method, taken_args *t,
                              manta_value **array, size_t nargs,
                              bool from_array) {
  manta_err err = taken_check(t, array, nargs, from_array);
  if (err == MANTA_OK) {
    err = manta_actor_call(actor, method, as_borrowed(t), t->n, out);
  }
  return err;
}

manta_err manta_actor_invokev(manta_ref *out, manta_actor actor,
                              const char *method, manta_value **args,
                              size_t nargs) {
  taken_args t;
  taken_from_array(&t, args, nargs);
  manta_err err = invoke_taken(out, actor, method, &t, args, nargs, true);
  taken_free(&t);
  return err;
}

manta_err manta_actor_invoke(manta_ref *out, manta_actor actor,
                             const char *method, size_t nargs, ...) {
  taken_args t;
  va_list ap;
  va_start(ap, nargs);
  taken_from_va(&t, nargs, ap);
  va_end(ap);
  manta_err err = invoke_taken(out, actor, method, &t, NULL, nargs, false);
  taken_free(&t);
  return err;
}

static manta_err invoke_get_va(manta_value **out, int64_t timeout_ms,
                               manta_actor actor, const char *method,
                               size_t nargs, va_list ap) {
  taken_args t;
  taken_from_va(&t, nargs, ap);
  manta_ref ref;
  manta_err err = invoke_taken(&ref, actor, method, &t, NULL, nargs, false);
  if (err == MANTA_OK) {
    err = get_release(ref, timeout_ms, out);
  } else if (out) {
    *out = call_error(err, "actor call", method, &t);
  }
  taken_free(&t);
  return err;
}

manta_err manta_actor_invoke_get(manta_value **out, manta_actor actor,
                                 const char *method, size_t nargs, ...) {
  va_list ap;
  va_start(ap, nargs);
  manta_err err = invoke_get_va(out, MANTA_FOREVER, actor, method, nargs, ap);
  va_end(ap);
  return err;
}

manta_err manta_actor_invoke_get_timeout(manta_value **out, int64_t timeout_ms,
                                         manta_actor actor, const char *method,
                                         size_t nargs, ...) {
  va_list ap;
  va_start(ap, nargs);
  manta_err err = invoke_get_va(out, timeout_ms, actor, method, nargs, ap);
  va_end(ap);
  return err;
}
