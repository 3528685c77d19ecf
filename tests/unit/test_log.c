/* The log (runtime/base/log.c) and its public hook, manta_log_set_handler:
 * a line the runtime logs reaches the handler and not stderr; NULL sends
 * lines to stderr again; the MANTA_LOG level filters both, and
 * manta_log_set_level replaces it; a handler being
 * replaced is never called after the call that replaced it returned. */
#include "log.h"
#include "manta.h"
#include "test_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct seen {
  pthread_mutex_t mu;
  int lines;
  manta_log_level level;
  char last[1100];
} seen;

static void record(manta_log_level level, const char *message, void *arg) {
  seen *s = arg;
  pthread_mutex_lock(&s->mu);
  s->lines++;
  s->level = level;
  snprintf(s->last, sizeof s->last, "%s", message);
  pthread_mutex_unlock(&s->mu);
}

/* stderr goes to a temporary file while fn runs; what was written. */
static char *capture_stderr(void (*fn)(void *), void *arg) {
  char path[] = "/tmp/manta_test_log_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  unlink(path);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  REQUIRE(saved >= 0);
  dup2(fd, STDERR_FILENO);
  fn(arg);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  off_t n = lseek(fd, 0, SEEK_END);
  char *out = calloc(1, (size_t)n + 1);
  REQUIRE(out);
  REQUIRE(pread(fd, out, (size_t)n, 0) == n);
  close(fd);
  return out;
}

/* The runtime logs an error when a module cannot be loaded. */
static void load_missing_module(void *arg) {
  (void)arg;
  CHECK_ERR(manta_module_load("/nonexistent/manta-log-test.so"),
            MANTA_ERR_NOT_FOUND);
}

static void handler_receives_runtime_lines(void) {
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  manta_log_set_handler(record, &s);
  char *err = capture_stderr(load_missing_module, NULL);
  CHECK_INT_EQ(s.lines, 1);
  CHECK(s.level == MANTA_LOG_ERROR);
  CHECK(strstr(s.last, "module /nonexistent/manta-log-test.so") == s.last);
  CHECK(strstr(s.last, "cannot load") != NULL);
  CHECK(strchr(s.last, '\n') == NULL);
  CHECK(strstr(err, "manta-log-test") == NULL); /* not on stderr too */
  free(err);

  /* NULL: the same line goes to stderr again, the handler gets nothing. */
  manta_log_set_handler(NULL, &s);
  err = capture_stderr(load_missing_module, NULL);
  CHECK_INT_EQ(s.lines, 1);
  CHECK(strstr(err, "error: module /nonexistent/manta-log-test.so") != NULL);
  CHECK(strstr(err, "manta[") == err);
  free(err);
}

/* With MANTA_LOG unset the level is warn: debug and info lines reach
 * neither the handler nor stderr. */
static void level_filters(void) {
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  manta_log_set_handler(record, &s);
  mt_log(MT_LOG_DEBUG, "a debug line");
  mt_log(MT_LOG_INFO, "an info line");
  CHECK_INT_EQ(s.lines, 0);
  mt_log(MT_LOG_WARN, "a warning %d", 7);
  CHECK_INT_EQ(s.lines, 1);
  CHECK(s.level == MANTA_LOG_WARN);
  CHECK(strcmp(s.last, "a warning 7") == 0);
  manta_log_set_handler(NULL, NULL);
}

/* manta_log_set_level: debug lets debug and info lines through, error
 * stops warnings, warn restores the default; stderr obeys it as the
 * handler does; out-of-range levels are refused and change nothing. */
static void log_info_line(void *arg) {
  (void)arg;
  mt_log(MT_LOG_INFO, "an info line for stderr");
}

static void level_setter(void) {
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  CHECK(manta_log_get_level() == MANTA_LOG_WARN);
  manta_log_set_handler(record, &s);
  CHECK_OK(manta_log_set_level(MANTA_LOG_DEBUG));
  CHECK(manta_log_get_level() == MANTA_LOG_DEBUG);
  mt_log(MT_LOG_DEBUG, "a debug line %d", 1);
  CHECK_INT_EQ(s.lines, 1);
  CHECK(s.level == MANTA_LOG_DEBUG);
  CHECK(strcmp(s.last, "a debug line 1") == 0);
  mt_log(MT_LOG_INFO, "an info line");
  CHECK_INT_EQ(s.lines, 2);

  CHECK_OK(manta_log_set_level(MANTA_LOG_ERROR));
  CHECK(manta_log_get_level() == MANTA_LOG_ERROR);
  mt_log(MT_LOG_WARN, "a warning");
  mt_log(MT_LOG_INFO, "an info line");
  CHECK_INT_EQ(s.lines, 2);
  mt_log(MT_LOG_ERROR, "an error");
  CHECK_INT_EQ(s.lines, 3);

  CHECK_ERR(manta_log_set_level((manta_log_level)4), MANTA_ERR_INVALID);
  CHECK_ERR(manta_log_set_level((manta_log_level)-1), MANTA_ERR_INVALID);
  CHECK(manta_log_get_level() == MANTA_LOG_ERROR);

  /* stderr follows the level too. */
  manta_log_set_handler(NULL, NULL);
  CHECK_OK(manta_log_set_level(MANTA_LOG_INFO));
  char *err = capture_stderr(log_info_line, NULL);
  CHECK(strstr(err, "info: an info line for stderr") != NULL);
  free(err);
  CHECK_OK(manta_log_set_level(MANTA_LOG_WARN));
  err = capture_stderr(log_info_line, NULL);
  CHECK(strstr(err, "an info line") == NULL);
  free(err);
  CHECK(manta_log_get_level() == MANTA_LOG_WARN);
}

/* A handler that logs: its line goes to stderr instead of deadlocking. */
static void nested(manta_log_level level, const char *message, void *arg) {
  (void)level;
  (void)message;
  atomic_fetch_add((_Atomic int *)arg, 1);
  mt_log(MT_LOG_ERROR, "logged from inside the handler");
}

static void log_one_error(void *arg) {
  (void)arg;
  mt_log(MT_LOG_ERROR, "outer line");
}

static void handler_may_log(void) {
  _Atomic int calls = 0;
  manta_log_set_handler(nested, &calls);
  char *err = capture_stderr(log_one_error, NULL);
  manta_log_set_handler(NULL, NULL);
  CHECK_INT_EQ(calls, 1);
  CHECK(strstr(err, "logged from inside the handler") != NULL);
  CHECK(strstr(err, "outer line") == NULL);
  free(err);
}

/* Threads log while the handler is swapped back and forth: each handler's
 * calls stop when the swap returns (its arg is then marked dead, and a
 * call into a dead arg is counted as a failure). */
typedef struct live {
  _Atomic int alive;
  _Atomic int calls;
} live;

static _Atomic int after_death;
static atomic_bool stop;

static void counting(manta_log_level level, const char *message, void *arg) {
  (void)level;
  (void)message;
  live *l = arg;
  if (!atomic_load(&l->alive)) {
    atomic_fetch_add(&after_death, 1);
  }
  atomic_fetch_add(&l->calls, 1);
}

static void *logger(void *arg) {
  (void)arg;
  for (long i = 0; !atomic_load(&stop); i++) {
    mt_log(MT_LOG_WARN, "line %ld", i);
  }
  return NULL;
}

static bool called(void *arg) {
  return atomic_load(&((live *)arg)->calls) > 0;
}

static void swap_while_logging(void) {
  static live l[2];
  pthread_t th[3];
  /* Lines that reach stderr between swaps are many: not into the log. */
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int null = open("/dev/null", O_WRONLY);
  REQUIRE(saved >= 0 && null >= 0);
  dup2(null, STDERR_FILENO);
  for (int i = 0; i < 3; i++) {
    REQUIRE(pthread_create(&th[i], NULL, logger, NULL) == 0);
  }
  int unused = 0;
  for (int round = 0; round < 200; round++) {
    live *a = &l[round % 2], *b = &l[(round + 1) % 2];
    atomic_store(&a->calls, 0);
    atomic_store(&a->alive, 1);
    manta_log_set_handler(counting, a);
    /* Lines really go through a before it is replaced (a busy machine
     * may not run the loggers for a while: bounded, 10 s). */
    unused += !mt_test_wait_until(called, a, 10000);
    atomic_store(&b->alive, 1);
    manta_log_set_handler(counting, b); /* a replaced by b */
    atomic_store(&a->alive, 0);
    manta_log_set_handler(NULL, NULL); /* b replaced by stderr */
    atomic_store(&b->alive, 0);
  }
  atomic_store(&stop, true);
  for (int i = 0; i < 3; i++) {
    pthread_join(th[i], NULL);
  }
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(null);
  CHECK_INT_EQ(after_death, 0);
  CHECK_INT_EQ(unused, 0);
}

int main(void) {
  unsetenv("MANTA_LOG"); /* read once, at the first line: warn */
  REQUIRE_OK(manta_init(NULL));
  RUN_TEST(handler_receives_runtime_lines);
  RUN_TEST(level_filters);
  RUN_TEST(level_setter);
  RUN_TEST(handler_may_log);
  RUN_TEST(swap_while_logging);
  manta_shutdown();
  return mt_test_done();
}
