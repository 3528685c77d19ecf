/* Bounded object memory (runtime/core/spill.c): a small store limit,
 * objects spilled to files and read back by get and as task arguments,
 * files removed with their objects, OBJECT_STORE_FULL when everything is in
 * use, and many threads doing all of it at once. */
#include "test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

static char spill_parent[256];

static void start(uint64_t limit, int64_t full_ms) {
  snprintf(spill_parent, sizeof spill_parent, "%s/manta-spill-test-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  REQUIRE(mkdtemp(spill_parent) != NULL);
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, 2));
  REQUIRE_OK(manta_options_set_object_store_memory(o, limit));
  REQUIRE_OK(manta_options_set_object_store_full_timeout(o, full_ms));
  REQUIRE_OK(manta_options_set_spill_dir(o, spill_parent));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
}

/* Files under the spill folder (this node's folder is one level down). */
static int spill_files(void) {
  int n = 0;
  DIR *d = opendir(spill_parent);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, "spill-", 6) != 0) {
      continue;
    }
    char sub[600];
    snprintf(sub, sizeof sub, "%s/%s", spill_parent, e->d_name);
    DIR *s = opendir(sub);
    struct dirent *f;
    while (s && (f = readdir(s))) {
      n += f->d_name[0] != '.';
    }
    if (s) {
      closedir(s);
    }
  }
  if (d) {
    closedir(d);
  }
  return n;
}

static void stop(void) {
  REQUIRE_OK(manta_shutdown());
  /* Shutdown removes every file and this node's folder. */
  CHECK_INT_EQ(spill_files(), 0);
  CHECK(rmdir(spill_parent) == 0);
}

static int64_t live_bytes(void) {
  int64_t n = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECT_BYTES, &n));
  return n;
}

static uint64_t fnv(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h = (h ^ p[i]) * 1099511628211ull;
  }
  return h;
}

/* 1 MiB of bytes that differ per seed. */
static manta_value *block(unsigned seed, uint64_t *sum) {
  unsigned char *buf = malloc(MiB);
  REQUIRE(buf);
  uint64_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < MiB; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    memcpy(buf + i, &x, 8);
  }
  if (sum) {
    *sum = fnv(buf, MiB);
  }
  manta_value *v = manta_bytes(buf, MiB);
  free(buf);
  REQUIRE(v);
  return v;
}

static uint64_t value_sum(const manta_value *v) {
  const void *data;
  size_t len;
  if (manta_get_bytes(v, &data, &len) == MANTA_OK) {
    return fnv(data, len);
  }
  /* A list of blocks: the sum of their sums. */
  uint64_t total = 0;
  size_t n = 0;
  CHECK_OK(manta_len(v, &n));
  for (size_t i = 0; i < n; i++) {
    const manta_value *item = NULL;
    CHECK_OK(manta_list_at(v, i, &item));
    total += item ? value_sum(item) : 0;
  }
  return total;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- 64 MiB through an 8 MiB store -------------------------------------- */

#define NOBJ 64

static void test_spill_and_read_back(void) {
  start(8 * MiB, 2000);
  manta_ref refs[NOBJ];
  uint64_t sums[NOBJ];
  int64_t most = 0;
  for (unsigned i = 0; i < NOBJ; i++) {
    manta_value *v;
    if (i % 8 == 7) {
      /* Every eighth is a list (spilled in the value encoding, not raw). */
      uint64_t a, b;
      v = manta_list();
      REQUIRE(v);
      manta_value *half1 = block(i, &a), *half2 = block(i + 1000, &b);
      CHECK_OK(manta_list_push(v, half1));
      CHECK_OK(manta_list_push(v, half2));
      sums[i] = a + b;
    } else {
      v = block(i, &sums[i]);
    }
    REQUIRE_OK(manta_put(v, &refs[i]));
    manta_value_free(v); /* only the store holds it now: it may spill */
    int64_t live = live_bytes();
    most = live > most ? live : most;
  }
  /* Held in memory: at most the limit plus the object coming in. */
  CHECK(most <= (int64_t)(8 * MiB + 2 * MiB));
  int files = spill_files();
  CHECK(files >= NOBJ - 10);
  fprintf(stderr, "  %d spill files, at most %lld bytes in memory\n", files,
          (long long)most);

  for (int round = 0; round < 2; round++) {
    for (unsigned i = 0; i < NOBJ; i++) {
      manta_value *v = NULL;
      CHECK_OK(manta_get(refs[i], 5000, &v));
      CHECK(v && value_sum(v) == sums[i]);
      manta_value_free(v);
      CHECK(live_bytes() <= (int64_t)(8 * MiB + 2 * MiB));
    }
  }
  /* Reading back wrote nothing new: the files stay until their objects go. */
  CHECK_INT_EQ(spill_files(), files);
  for (unsigned i = 0; i < NOBJ; i += 2) {
    CHECK_OK(manta_ref_release(refs[i]));
  }
  CHECK(spill_files() <= files - NOBJ / 2 + 5);
  CHECK(spill_files() >= files - NOBJ / 2 - 5);
  for (unsigned i = 1; i < NOBJ; i += 2) {
    CHECK_OK(manta_ref_release(refs[i]));
  }
  CHECK_INT_EQ(spill_files(), 0);
  CHECK_INT_EQ(live_bytes(), 0);
  stop();
}

/* ---- nothing can be spilled --------------------------------------------- */

static manta_value *fn_make_block(const manta_value *const *args, size_t n,
                                  void *u) {
  (void)args, (void)n, (void)u;
  return block(99, NULL);
}

static manta_value *fn_sum(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  return manta_int((int64_t)(value_sum(args[0]) & INT64_MAX));
}

static void test_full_when_all_in_use(void) {
  start(4 * MiB, 300);
  CHECK_OK(manta_register_function("make_block", fn_make_block, 0, NULL));
  manta_value *held[4];
  manta_ref refs[4];
  for (unsigned i = 0; i < 4; i++) {
    held[i] = block(i, NULL); /* kept: the program reads them */
    CHECK_OK(manta_put(held[i], &refs[i]));
  }
  manta_value *more = block(7, NULL);
  manta_ref r;
  int64_t t0 = now_ms();
  CHECK_ERR(manta_put(more, &r), MANTA_ERR_OBJECT_STORE_FULL);
  int64_t waited = now_ms() - t0;
  CHECK(waited >= 250 && waited < 3000); /* the bounded wait, no more */
  CHECK_INT_EQ(spill_files(), 0);

  /* A task result that does not fit: an error value saying why. */
  manta_ref tr;
  CHECK_OK(manta_submit("make_block", NULL, 0, NULL, &tr));
  manta_value *res = NULL;
  CHECK_ERR(manta_get(tr, 5000, &res), MANTA_ERR_OBJECT_STORE_FULL);
  const char *msg = res ? manta_error_message(res) : "";
  fprintf(stderr, "  result error: %s\n", msg);
  CHECK(strstr(msg, "limit is 4 MiB") != NULL);
  CHECK(strstr(msg, "being read") != NULL);
  manta_value_free(res);
  CHECK_OK(manta_ref_release(tr));

  /* Larger than the whole store: refused at once. */
  manta_value *big = manta_list();
  for (unsigned i = 0; i < 5; i++) {
    manta_value *b = block(i, NULL);
    CHECK_OK(manta_list_push(big, b));
  }
  t0 = now_ms();
  CHECK_ERR(manta_put(big, &r), MANTA_ERR_OBJECT_STORE_FULL);
  CHECK(now_ms() - t0 < 200);
  manta_value_free(big);

  /* The program lets go: the same put now spills and succeeds. */
  for (unsigned i = 0; i < 4; i++) {
    manta_value_free(held[i]);
  }
  CHECK_OK(manta_put(more, &r));
  CHECK(spill_files() >= 1);
  manta_value *back = NULL;
  CHECK_OK(manta_get(refs[0], 5000, &back));
  uint64_t want;
  manta_value_free(block(0, &want));
  CHECK(back && value_sum(back) == want);
  manta_value_free(back);
  manta_value_free(more);
  CHECK_OK(manta_ref_release(r));
  for (unsigned i = 0; i < 4; i++) {
    CHECK_OK(manta_ref_release(refs[i]));
  }
  stop();
}

/* ---- the disk refuses -------------------------------------------------- */

static void test_full_when_disk_fails(void) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_object_store_memory(o, 2 * MiB));
  REQUIRE_OK(manta_options_set_object_store_full_timeout(o, 200));
  /* Below a file, so the node's spill folder cannot be made. */
  REQUIRE_OK(manta_options_set_spill_dir(o, "/dev/null/spill"));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  CHECK_OK(manta_register_function("make_block", fn_make_block, 0, NULL));
  manta_ref refs[2], tr;
  for (unsigned i = 0; i < 2; i++) {
    manta_value *v = block(i, NULL);
    CHECK_OK(manta_put(v, &refs[i]));
    manta_value_free(v); /* spillable, but the disk says no */
  }
  CHECK_OK(manta_submit("make_block", NULL, 0, NULL, &tr));
  manta_value *res = NULL;
  CHECK_ERR(manta_get(tr, 5000, &res), MANTA_ERR_OBJECT_STORE_FULL);
  const char *msg = res ? manta_error_message(res) : "";
  CHECK(strstr(msg, "the last spill failed: cannot create the spill "
                    "folder /dev/null/spill") != NULL);
  manta_value_free(res);
  /* Still working: freeing one makes room. */
  CHECK_OK(manta_ref_release(refs[0]));
  manta_value *v = block(3, NULL);
  manta_ref r;
  CHECK_OK(manta_put(v, &r));
  manta_value_free(v);
  REQUIRE_OK(manta_shutdown());
}

/* ---- a spilled object as a task argument -------------------------------- */

static void test_spilled_argument(void) {
  start(2 * MiB, 2000);
  CHECK_OK(manta_register_function("sum", fn_sum, 1, NULL));
  uint64_t want;
  manta_value *v = block(5, &want);
  manta_ref a;
  CHECK_OK(manta_put(v, &a));
  manta_value_free(v);
  manta_ref others[4];
  for (unsigned i = 0; i < 4; i++) {
    v = block(10 + i, NULL);
    CHECK_OK(manta_put(v, &others[i]));
    manta_value_free(v);
  }
  CHECK(spill_files() >= 2); /* a, least recently used, among them */
  manta_value *arg = manta_ref_value(a);
  REQUIRE(arg);
  manta_ref r;
  CHECK_OK(manta_submit("sum", (const manta_value *const *)&arg, 1, NULL, &r));
  manta_value_free(arg);
  manta_value *got = NULL;
  CHECK_OK(manta_get(r, 5000, &got));
  CHECK_INT_EQ(mt_test_int(got), (int64_t)(want & INT64_MAX));
  manta_value_free(got);
  CHECK_OK(manta_ref_release(r));
  CHECK_OK(manta_ref_release(a));
  for (unsigned i = 0; i < 4; i++) {
    CHECK_OK(manta_ref_release(others[i]));
  }
  stop();
}

/* ---- many threads ------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 24

static void *put_get_worker(void *arg) {
  unsigned base = (unsigned)(uintptr_t)arg * 1000;
  manta_ref refs[PER_THREAD];
  uint64_t sums[PER_THREAD];
  for (unsigned i = 0; i < PER_THREAD; i++) {
    manta_value *v = block(base + i, &sums[i]);
    CHECK_OK(manta_put(v, &refs[i]));
    manta_value_free(v);
    if (i % 3 == 2) {
      /* Read an older one back while others spill. */
      manta_value *b = NULL;
      CHECK_OK(manta_get(refs[i / 2], 5000, &b));
      CHECK(b && value_sum(b) == sums[i / 2]);
      manta_value_free(b);
    }
  }
  for (unsigned i = 0; i < PER_THREAD; i++) {
    manta_value *b = NULL;
    CHECK_OK(manta_get(refs[i], 5000, &b));
    CHECK(b && value_sum(b) == sums[i]);
    manta_value_free(b);
    CHECK_OK(manta_ref_release(refs[i]));
  }
  return NULL;
}

static void test_threads(void) {
  start(6 * MiB, 5000);
  pthread_t th[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++) {
    REQUIRE(pthread_create(&th[i], NULL, put_get_worker, (void *)i) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
  }
  CHECK_INT_EQ(spill_files(), 0);
  CHECK_INT_EQ(live_bytes(), 0);
  stop();
}

/* ---- a read back does not hold the runtime's lock ---------------------- */

static manta_ref blocked_ref;
static manta_value *blocked_got;

static _Atomic long blocked_tid;

static void *get_blocked(void *arg) {
  (void)arg;
  blocked_tid = (long)syscall(SYS_gettid);
  manta_get(blocked_ref, 30000, &blocked_got);
  return NULL;
}

/* Whether thread tid of this process is in the openat system call now
 * (/proc/self/task/TID/syscall starts with the call's number). */
static bool in_openat(long tid) {
  char path[64], buf[64] = "";
  snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
  FILE *f = fopen(path, "r");
  if (!f) {
    return false;
  }
  bool in = fgets(buf, sizeof buf, f) && atol(buf) == SYS_openat;
  fclose(f);
  return in;
}

/* Work that takes the runtime's lock: a put and a get of it. */
static void *lock_work(void *arg) {
  (void)arg;
  manta_value *v = manta_int(42);
  manta_ref r;
  manta_value *back = NULL;
  CHECK_OK(manta_put(v, &r));
  CHECK_OK(manta_get(r, 5000, &back));
  CHECK(mt_test_int(back) == 42);
  manta_value_free(back);
  manta_value_free(v);
  CHECK_OK(manta_ref_release(r));
  return NULL;
}

/* The spill file of ref, in this node's spill folder. */
static void spill_path(manta_ref ref, char *out, size_t len) {
  DIR *d = opendir(spill_parent);
  REQUIRE(d != NULL);
  out[0] = '\0';
  for (struct dirent *e; (e = readdir(d));) {
    if (strncmp(e->d_name, "spill-", 6) == 0) {
      snprintf(out, len, "%s/%s/%016llx", spill_parent, e->d_name,
               (unsigned long long)ref.id);
    }
  }
  closedir(d);
  REQUIRE(out[0] != '\0');
}

/* A get reading a spilled object back holds no lock while it reads: its
 * file is swapped for a FIFO, so the read blocks until this test lets it
 * go, and meanwhile another thread puts and gets. Holding the lock during
 * the read, that thread would wait for as long as the read: it gets 10 s
 * before the test stops waiting (and lets the read go, so it ends). */
static void test_read_back_unlocked(void) {
  start(2 * MiB, 1000);
  unsigned char *data = malloc(MiB + MiB / 2);
  REQUIRE(data != NULL);
  memset(data, 7, MiB + MiB / 2);
  manta_value *x = manta_bytes(data, MiB);
  manta_value *y = manta_bytes(data, MiB + MiB / 2);
  free(data);
  manta_ref ry;
  REQUIRE_OK(manta_put(x, &blocked_ref));
  manta_value_free(x);
  REQUIRE_OK(manta_put(y, &ry)); /* x, unread, is spilled for it */
  manta_value_free(y);
  char path[900];
  spill_path(blocked_ref, path, sizeof path);
  struct stat st;
  REQUIRE(stat(path, &st) == 0 && (size_t)st.st_size == MiB);
  REQUIRE(unlink(path) == 0 && mkfifo(path, 0600) == 0);

  pthread_t reader, worker;
  REQUIRE(pthread_create(&reader, NULL, get_blocked, NULL) == 0);
  /* Opening a FIFO to read waits for a writer: the reader stays in
   * openat, inside its read back, until this test opens the other end. */
  int i = 0;
  for (; i < 2000 && !(blocked_tid && in_openat(blocked_tid)); i++) {
    mt_test_sleep_ms(5);
  }
  REQUIRE(i < 2000);
  REQUIRE(pthread_create(&worker, NULL, lock_work, NULL) == 0);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  int joined = pthread_timedjoin_np(worker, NULL, &until);
  CHECK(joined == 0); /* the put and get went on during the read */
  /* The read goes on: it finds an empty file. */
  int fd = open(path, O_WRONLY | O_NONBLOCK);
  CHECK(fd >= 0);
  if (fd >= 0) {
    close(fd);
  }
  if (joined != 0) {
    pthread_join(worker, NULL);
  }
  pthread_join(reader, NULL);
  /* The file it found was no spill file: lost, and it says which. */
  CHECK(blocked_got && manta_error_code(blocked_got) == MANTA_ERR_OBJECT_LOST);
  CHECK(blocked_got && strstr(manta_error_message(blocked_got), path));
  manta_value_free(blocked_got);
  CHECK_OK(manta_ref_release(blocked_ref));
  CHECK_OK(manta_ref_release(ry));
  stop();
}

int main(void) {
  RUN_TEST(test_spill_and_read_back);
  RUN_TEST(test_full_when_all_in_use);
  RUN_TEST(test_full_when_disk_fails);
  RUN_TEST(test_spilled_argument);
  RUN_TEST(test_threads);
  RUN_TEST(test_read_back_unlocked);
  return mt_test_done();
}
