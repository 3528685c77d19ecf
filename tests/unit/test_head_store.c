/* The head's store, whatever its kind (runtime/cluster/head/head_store.c),
 * against a backend in memory that can be made to fail and to lose what
 * it held: records read back at open, changes written (a record put
 * twice unchanged is written once), a table synced to a list, a failing
 * store reported with its cause while the changes wait, and everything
 * written again once it answers. The Redis backend itself is tested with
 * a real server by cluster_head_store. */
#include "head_store.h"
#include "strmap.h"
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- a backend in memory ----------------------------------------------------
 */

typedef struct fake_store {
  pthread_mutex_t mu;
  mt_strmap tables[MT_STORE_NTABLES]; /* key -> strdup'ed value */
  atomic_bool fail;
  atomic_int writes, full_writes; /* batches with records, replace_all */
} fake_store;

static fake_store fake = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Calls fn for every record held (the caller holds fake.mu). */
static void fake_each(void (*fn)(void *ctx, int table, const char *key,
                                 const uint8_t *data, size_t len),
                      void *ctx) {
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    size_t pos = 0;
    const char *k;
    void *v;
    while (mt_strmap_next(&fake.tables[t], &pos, &k, &v)) {
      fn(ctx, t, k, v, strlen(v));
    }
  }
}

static void free_value(void *ctx, int table, const char *key,
                       const uint8_t *data, size_t len) {
  (void)ctx, (void)table, (void)key, (void)len;
  free((void *)data);
}

static void fake_clear(void) {
  pthread_mutex_lock(&fake.mu);
  fake_each(free_value, NULL);
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    mt_strmap_destroy(&fake.tables[t]);
    mt_strmap_init(&fake.tables[t]);
  }
  pthread_mutex_unlock(&fake.mu);
}

static void fake_set(int t, const char *key, const char *value) {
  free(mt_strmap_remove(&fake.tables[t], key));
  if (value) {
    bool oom = false;
    mt_strmap_insert(&fake.tables[t], key, strdup(value), &oom);
  }
}

/* The value stored under key (a copy to free), or NULL. */
static char *fake_get(int t, const char *key) {
  pthread_mutex_lock(&fake.mu);
  const char *v = mt_strmap_get(&fake.tables[t], key);
  char *copy = v ? strdup(v) : NULL;
  pthread_mutex_unlock(&fake.mu);
  return copy;
}

static void *fake_parse(const char *url, const char *prefix,
                        const char *password, char *shown, size_t shown_size,
                        char *why, size_t size) {
  (void)prefix, (void)password, (void)why, (void)size;
  snprintf(shown, shown_size, "%s", url);
  return &fake;
}

static bool fake_connect(void *c, char *why, size_t size) {
  (void)c;
  if (atomic_load(&fake.fail)) {
    snprintf(why, size, "fake: connection refused");
    return false;
  }
  return true;
}

static bool fake_load(void *c,
                      void (*fn)(void *ctx, int table, const char *key,
                                 const uint8_t *data, size_t len),
                      void *ctx, char *why, size_t size) {
  (void)c, (void)why, (void)size;
  pthread_mutex_lock(&fake.mu);
  fake_each(fn, ctx);
  pthread_mutex_unlock(&fake.mu);
  return true;
}

static bool fake_write(void *c, const mt_store_record *r, size_t n,
                       bool replace_all, char *why, size_t size) {
  (void)c;
  if (atomic_load(&fake.fail)) {
    snprintf(why, size, "fake: server closed the connection");
    return false;
  }
  if (replace_all) {
    fake_clear();
    atomic_fetch_add(&fake.full_writes, 1);
  }
  pthread_mutex_lock(&fake.mu);
  for (size_t i = 0; i < n; i++) {
    char value[64] = "";
    if (r[i].data) {
      snprintf(value, sizeof value, "%.*s", (int)r[i].len,
               (const char *)r[i].data);
    }
    fake_set(r[i].table, r[i].key, r[i].data ? value : NULL);
  }
  pthread_mutex_unlock(&fake.mu);
  if (n > 0) {
    atomic_fetch_add(&fake.writes, 1);
  }
  return true;
}

static void fake_close(void *c) {
  (void)c;
}

/* No lease: one head (cluster_head_lease tests the lease on Redis). */
static const mt_store_backend fake_backend = {
    "fake", fake_parse, fake_connect, fake_load, fake_write, fake_close, NULL};

/* ---- the tests --------------------------------------------------------------
 */

static void put(mt_head_store *s, int t, const char *key, const char *value) {
  mt_head_store_put(s, t, key, (const uint8_t *)value, strlen(value));
}

typedef struct want {
  int table;
  const char *key, *value; /* value NULL: absent */
} want;

static bool has(void *arg) {
  const want *w = arg;
  char *v = fake_get(w->table, w->key);
  bool ok = w->value ? v && strcmp(v, w->value) == 0 : v == NULL;
  free(v);
  return ok;
}

static void expect(int table, const char *key, const char *value) {
  want w = {table, key, value};
  if (!mt_test_wait_until(has, &w, 10000)) {
    fprintf(stderr, "store: table %d key %s is not %s\n", table, key,
            value ? value : "absent");
    CHECK(false);
  }
}

static int loaded;
static void on_load(void *ctx, int table, const char *key, const uint8_t *data,
                    size_t len) {
  (void)ctx;
  loaded += table == MT_STORE_ACTORS && strcmp(key, "old") == 0 && len == 4 &&
            memcmp(data, "host", 4) == 0;
}

static bool store_down(void *arg) {
  Manta__V1__HeadStore st;
  mt_head_store_status(arg, &st);
  bool down = !st.ok && strstr(st.error, "fake:") && st.pending_writes > 0;
  mt_head_store_status_free(&st);
  return down;
}

static bool store_up(void *arg) {
  Manta__V1__HeadStore st;
  mt_head_store_status(arg, &st);
  bool up = st.ok && st.pending_writes == 0;
  mt_head_store_status_free(&st);
  return up;
}

static void test_store(void) {
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    mt_strmap_init(&fake.tables[t]);
  }
  pthread_mutex_lock(&fake.mu);
  fake_set(MT_STORE_ACTORS, "old", "host");
  pthread_mutex_unlock(&fake.mu);
  char why[300] = "";
  mt_head_store *s = mt_head_store_open_with(&fake_backend, "fake://x", "test",
                                             why, sizeof why);
  REQUIRE(s != NULL);
  REQUIRE(mt_head_store_load(s, on_load, NULL, why, sizeof why));
  CHECK_INT_EQ(loaded, 1);
  REQUIRE(mt_head_store_start(s));

  /* Changes reach the store; a deleted record goes. */
  put(s, MT_STORE_NODES, "n1", "alpha");
  put(s, MT_STORE_NODES, "n2", "beta");
  mt_head_store_del(s, MT_STORE_ACTORS, "old");
  expect(MT_STORE_NODES, "n1", "alpha");
  expect(MT_STORE_NODES, "n2", "beta");
  expect(MT_STORE_ACTORS, "old", NULL);
  /* The same record again is no change: nothing more is written. */
  REQUIRE(mt_test_wait_until(store_up, s, 10000));
  mt_test_sleep_ms(50); /* the last batch's count, after its records */
  int writes = atomic_load(&fake.writes);
  put(s, MT_STORE_NODES, "n1", "alpha");
  mt_test_sleep_ms(100);
  CHECK_INT_EQ(atomic_load(&fake.writes), writes);

  /* A table synced to a list: what the list lacks goes. */
  Manta__V1__NamedActor a = MANTA__V1__NAMED_ACTOR__INIT, b = a;
  a.name = "a";
  b.name = "b";
  const char *keys[] = {"g1", "g2"};
  const ProtobufCMessage *msgs[] = {&a.base, &b.base};
  mt_head_store_sync(s, MT_STORE_PGS, keys, msgs, 2);
  expect(MT_STORE_PGS, "g1", "\n\001a");
  expect(MT_STORE_PGS, "g2", "\n\001b");
  mt_head_store_sync(s, MT_STORE_PGS, keys + 1, msgs + 1, 1);
  expect(MT_STORE_PGS, "g1", NULL);
  expect(MT_STORE_PGS, "g2", "\n\001b");

  /* The store fails: reported with its cause, the change waits. */
  atomic_store(&fake.fail, true);
  put(s, MT_STORE_NODES, "n3", "gamma");
  CHECK(mt_test_wait_until(store_down, s, 10000));
  /* It comes back having lost everything (restarted empty): the whole
   * state is written again. */
  int full = atomic_load(&fake.full_writes);
  fake_clear();
  atomic_store(&fake.fail, false);
  CHECK(mt_test_wait_until(store_up, s, 10000));
  expect(MT_STORE_NODES, "n1", "alpha");
  expect(MT_STORE_NODES, "n2", "beta");
  expect(MT_STORE_NODES, "n3", "gamma");
  expect(MT_STORE_PGS, "g2", "\n\001b");
  CHECK(atomic_load(&fake.full_writes) > full);

  mt_head_store_close(s);
  fake_clear();
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    mt_strmap_destroy(&fake.tables[t]);
  }
}

/* Names that would reach into another cluster's keys are refused. */
static void test_bad_names(void) {
  char why[300] = "";
  CHECK(mt_head_store_open_with(&fake_backend, "fake://x", "a:b", why,
                                sizeof why) == NULL);
  CHECK(strstr(why, "not usable as a key prefix") != NULL);
  CHECK(mt_head_store_open("etcd://x:1", NULL, why, sizeof why) == NULL);
  CHECK(strstr(why, "unknown kind of store") != NULL);
  CHECK(mt_head_store_open("redis://h:99999", NULL, why, sizeof why) == NULL);
  CHECK(strstr(why, "port 1 to 65535") != NULL);
}

int main(void) {
  RUN_TEST(test_store);
  RUN_TEST(test_bad_names);
  return mt_test_done();
}
