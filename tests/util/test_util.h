/* A minimal test harness: CHECK records a failure and goes on, REQUIRE
 * stops the program. Each test binary ends with `return mt_test_done();`. */
#ifndef MT_TEST_UTIL_H
#define MT_TEST_UTIL_H

#include "manta.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Atomic: tests call CHECK from several threads. */
extern _Atomic int mt_test_failures;
extern _Atomic int mt_test_checks;

#define CHECK(cond)                                                            \
  do {                                                                         \
    mt_test_checks++;                                                          \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      mt_test_failures++;                                                      \
    }                                                                          \
  } while (0)

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    mt_test_checks++;                                                          \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__,       \
              #cond);                                                          \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* Compares two manta_err codes and names both on failure. */
#define CHECK_ERR(expr, expected)                                              \
  do {                                                                         \
    manta_err got_ = (expr);                                                   \
    mt_test_checks++;                                                          \
    if (got_ != (expected)) {                                                  \
      fprintf(stderr, "%s:%d: %s gave %s, expected %s\n", __FILE__, __LINE__,  \
              #expr, manta_errname(got_), manta_errname(expected));            \
      mt_test_failures++;                                                      \
    }                                                                          \
  } while (0)

#define CHECK_OK(expr) CHECK_ERR(expr, MANTA_OK)

#define REQUIRE_OK(expr)                                                       \
  do {                                                                         \
    manta_err got_ = (expr);                                                   \
    mt_test_checks++;                                                          \
    if (got_ != MANTA_OK) {                                                    \
      fprintf(stderr, "%s:%d: %s gave %s\n", __FILE__, __LINE__, #expr,        \
              manta_errname(got_));                                            \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_INT_EQ(a, b)                                                     \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    mt_test_checks++;                                                          \
    if (a_ != b_) {                                                            \
      fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__,          \
              __LINE__, #a, a_, b_);                                           \
      mt_test_failures++;                                                      \
    }                                                                          \
  } while (0)

/* Runs one test function and reports it. */
#define RUN_TEST(fn) mt_test_run(#fn, fn)

void mt_test_run(const char *name, void (*fn)(void));
/* Prints "N passed, N failed" and returns the exit status. */
int mt_test_done(void);

/* The int inside a value, or INT64_MIN with a CHECK failure. */
int64_t mt_test_int(const manta_value *v);

/* Gets a ref (10 s at most) that must hold an int, releases the ref and
 * returns the int (INT64_MIN with a CHECK failure otherwise). */
int64_t mt_test_take_int(manta_ref r);

/* Prints "<label> <index>: <v rendered>" on stderr (what came instead of
 * what a test expected). */
void mt_test_print_value(const char *label, int index, const manta_value *v);

/* Creates an actor of cls (no arguments) with opts, calls method (no
 * arguments) and waits (30 s at most): the result or error value; the
 * actor's handle is released. */
manta_value *mt_test_new_actor_ask(const char *cls,
                                   const manta_call_options *opts,
                                   const char *method);

/* Submits fn (no arguments) with opts and waits (timeout_ms at most): the
 * result or error value (NULL if none came). */
manta_value *mt_test_call(const char *fn, const manta_call_options *opts,
                          int64_t timeout_ms);

/* Submits fn(args[0..n)) with opts and waits (timeout_ms at most): the
 * result or error value (NULL if none came). The args are freed; the
 * submit itself must succeed (REQUIRE). */
manta_value *mt_test_submit_get(const char *fn, manta_value **args, size_t n,
                                const manta_call_options *opts,
                                int64_t timeout_ms);

/* Calls method of a with args[0..n) (freed) without waiting: the ref (a
 * CHECK failure and a zero ref if the call is refused). */
manta_ref mt_test_actor_call_async(manta_actor a, const char *method,
                                   manta_value **args, size_t n);

/* The same, waited for (timeout_ms at most): the result or error value. */
manta_value *mt_test_actor_call_get(manta_actor a, const char *method,
                                    manta_value **args, size_t n,
                                    int64_t timeout_ms);

/* Gets r (timeout_ms at most) and releases it: the value, NULL if none
 * came. */
manta_value *mt_test_take(manta_ref r, int64_t timeout_ms);

void mt_test_sleep_ms(long ms);

/* Asks done(arg) every few ms until it says true or timeout_ms passed:
 * whether it did. */
bool mt_test_wait_until(bool (*done)(void *arg), void *arg, int64_t timeout_ms);

/* A new private folder under $TMPDIR (or /tmp) named after tag; free()
 * the path. mt_test_rmdir removes a folder and everything in it. */
char *mt_test_tmpdir(const char *tag);
void mt_test_rmdir(const char *path);

/* Files through which test processes meet: mt_test_touch creates the
 * empty file dir/name (REQUIREs it); mt_test_wait_file waits until dir/name
 * exists, timeout_ms at most, and says whether it does. */
void mt_test_touch(const char *dir, const char *name);
bool mt_test_wait_file(const char *dir, const char *name, int64_t timeout_ms);

/* CHECKs that v is an error of that kind whose message holds part; prints
 * what came instead. */
void mt_test_check_error(const manta_value *v, manta_err kind,
                         const char *part);

/* Milliseconds on a monotonic clock. */
double mt_test_now_ms(void);

#endif
