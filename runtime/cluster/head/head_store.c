/* The head's durable store, whatever its kind (head_store.h): the mirror of
 * what the store should hold, the changes waiting to be written, the writer
 * thread that carries them there, and what ClusterStatus says of it. */
#include "head_store.h"
#include "clock.h"
#include "log.h"
#include "strmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* How often a store that failed is tried again. */
#define RETRY_MS 1000

typedef struct record {
  uint8_t *data;
  size_t len;
} record;

struct mt_head_store {
  const mt_store_backend *be;
  void *conn;
  char url[300];     /* as shown: no password */
  char cluster[128]; /* the key prefix's name */

  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t writer;
  bool started, stop;
  /* What the store should hold: per table, key -> record. */
  mt_strmap mirror[MT_STORE_NTABLES];
  /* Keys changed since written: "<table digit><key>" -> (void *)1. */
  mt_strmap dirty;
  bool connected;
  bool full_write; /* write everything (the store came back) */
  bool down;       /* the last attempt failed */
  int64_t down_since_ms;
  char error[300];       /* why, while down */
  int64_t last_write_ms; /* when the store was last written or checked */
};

static void *writer_loop(void *arg);

/* ---- the mirror -----------------------------------------------------------
 */

static void dirty_mark_locked(mt_head_store *s, int table, const char *key) {
  size_t n = strlen(key);
  char *k = malloc(n + 2);
  if (!k) {
    s->full_write = true; /* cannot name it: everything goes again */
    return;
  }
  k[0] = (char)('0' + table);
  memcpy(k + 1, key, n + 1);
  bool oom = false;
  if (!mt_strmap_get(&s->dirty, k) &&
      !mt_strmap_insert(&s->dirty, k, (void *)1, &oom) && oom) {
    s->full_write = true;
  }
  free(k);
}

static void record_free(record *r) {
  if (r) {
    free(r->data);
    free(r);
  }
}

void mt_head_store_put(mt_head_store *s, int table, const char *key,
                       const uint8_t *data, size_t len) {
  if (!s || table < 0 || table >= MT_STORE_NTABLES) {
    return;
  }
  pthread_mutex_lock(&s->mu);
  record *r = mt_strmap_get(&s->mirror[table], key);
  if (r && r->len == len && (len == 0 || memcmp(r->data, data, len) == 0)) {
    pthread_mutex_unlock(&s->mu);
    return; /* no change */
  }
  uint8_t *copy = malloc(len ? len : 1);
  bool oom = false;
  if (copy) {
    memcpy(copy, data, len);
  }
  if (copy && r) {
    free(r->data);
    r->data = copy;
    r->len = len;
  } else if (copy && (r = malloc(sizeof *r))) {
    r->data = copy;
    r->len = len;
    if (!mt_strmap_insert(&s->mirror[table], key, r, &oom)) {
      record_free(r);
      copy = NULL;
    }
  } else {
    free(copy);
    copy = NULL;
  }
  if (!copy) {
    mt_log(MT_LOG_ERROR, "head: out of memory recording '%s' for the store",
           key);
  } else {
    dirty_mark_locked(s, table, key);
    pthread_cond_signal(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
}

void mt_head_store_del(mt_head_store *s, int table, const char *key) {
  if (!s || table < 0 || table >= MT_STORE_NTABLES) {
    return;
  }
  pthread_mutex_lock(&s->mu);
  record *r = mt_strmap_remove(&s->mirror[table], key);
  if (r) {
    record_free(r);
    dirty_mark_locked(s, table, key);
    pthread_cond_signal(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
}

void mt_head_store_put_msg(mt_head_store *s, int table, const char *key,
                           const ProtobufCMessage *m) {
  if (!s) {
    return;
  }
  size_t len = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) {
    mt_log(MT_LOG_ERROR, "head: out of memory recording '%s' for the store",
           key);
    return;
  }
  protobuf_c_message_pack(m, buf);
  mt_head_store_put(s, table, key, buf, len);
  free(buf);
}

void mt_head_store_sync(mt_head_store *s, int table, const char *const *keys,
                        const ProtobufCMessage *const *m, size_t n) {
  if (!s) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    mt_head_store_put_msg(s, table, keys[i], m[i]);
  }
  /* Whatever the mirror has beyond these goes. */
  pthread_mutex_lock(&s->mu);
  size_t pos = 0, k = 0;
  const char *key;
  void *val;
  char **gone = calloc(s->mirror[table].len + 1, sizeof *gone);
  while (gone && mt_strmap_next(&s->mirror[table], &pos, &key, &val)) {
    bool listed = false;
    for (size_t i = 0; i < n && !listed; i++) {
      listed = strcmp(keys[i], key) == 0;
    }
    if (!listed && (gone[k] = strdup(key))) {
      k++;
    }
  }
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < k; i++) {
    mt_head_store_del(s, table, gone[i]);
    free(gone[i]);
  }
  free(gone);
}

/* ---- opening, loading ------------------------------------------------------
 */

/* The password: MANTA_STORE_PASSWORD_FILE (a file only its owner may
 * read, as for tokens), else MANTA_STORE_PASSWORD; NULL if none. False
 * with why when the file cannot be used. */
static bool read_password(char **out, char *why, size_t size) {
  *out = NULL;
  const char *path = getenv("MANTA_STORE_PASSWORD_FILE");
  if (path && *path) {
    FILE *f = fopen(path, "re");
    struct stat st;
    if (!f) {
      snprintf(why, size, "cannot read the store's password file %s: %s", path,
               strerror(errno));
      return false;
    }
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
      fclose(f);
      snprintf(why, size,
               "the store's password file %s may be read by others "
               "(chmod 600 it)",
               path);
      return false;
    }
    char line[512] = "";
    if (!fgets(line, sizeof line, f)) {
      line[0] = '\0';
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0]) {
      snprintf(why, size, "the store's password file %s is empty", path);
      return false;
    }
    *out = strdup(line);
    return *out != NULL;
  }
  const char *pw = getenv("MANTA_STORE_PASSWORD");
  if (pw && *pw) {
    *out = strdup(pw);
  }
  return true;
}

/* A cluster name makes a key prefix: letters, digits and "-_." only, so
 * that no name can reach into another's keys. */
static bool name_ok(const char *name) {
  if (!*name || strlen(name) > 100) {
    return false;
  }
  for (const char *p = name; *p; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
      return false;
    }
  }
  return true;
}

mt_head_store *mt_head_store_open(const char *url, const char *cluster_name,
                                  char *why, size_t size) {
  static const mt_store_backend *const backends[] = {&mt_store_redis};
  const mt_store_backend *be = NULL;
  for (size_t i = 0; i < sizeof backends / sizeof *backends; i++) {
    size_t n = strlen(backends[i]->scheme);
    if (strncmp(url, backends[i]->scheme, n) == 0 && url[n] == ':') {
      be = backends[i];
    }
  }
  if (!be) {
    snprintf(why, size,
             "store URL '%.200s': unknown kind of store (redis://host:port"
             "[/db] is known)",
             url);
    return NULL;
  }
  return mt_head_store_open_with(be, url, cluster_name, why, size);
}

mt_head_store *mt_head_store_open_with(const mt_store_backend *be,
                                       const char *url,
                                       const char *cluster_name, char *why,
                                       size_t size) {
  const char *name = cluster_name && *cluster_name ? cluster_name : "default";
  if (!name_ok(name)) {
    snprintf(why, size,
             "cluster name '%.100s' is not usable as a key prefix: letters, "
             "digits, '-', '_' and '.' only, at most 100",
             name);
    return NULL;
  }
  mt_head_store *s = calloc(1, sizeof *s);
  char *password = NULL;
  if (!s) {
    snprintf(why, size, "out of memory");
    return NULL;
  }
  if (!read_password(&password, why, size)) {
    free(s);
    return NULL;
  }
  char prefix[140];
  snprintf(prefix, sizeof prefix, "manta:%s:", name);
  s->be = be;
  s->conn = be->parse(url, prefix, password, s->url, sizeof s->url, why, size);
  if (password) {
    memset(password, 0, strlen(password));
    free(password);
  }
  if (!s->conn) {
    free(s);
    return NULL;
  }
  snprintf(s->cluster, sizeof s->cluster, "%s", name);
  char cause[300];
  if (!be->connect(s->conn, cause, sizeof cause)) {
    snprintf(why, size, "the store %s cannot be used: %s", s->url, cause);
    be->close(s->conn);
    free(s);
    return NULL;
  }
  s->connected = true;
  pthread_mutex_init(&s->mu, NULL);
  mt_cond_init(&s->cv);
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    mt_strmap_init(&s->mirror[t]);
  }
  mt_strmap_init(&s->dirty);
  return s;
}

typedef struct load_ctx {
  mt_head_store *s;
  void (*fn)(void *ctx, int table, const char *key, const uint8_t *data,
             size_t len);
  void *ctx;
} load_ctx;

static void on_loaded(void *arg, int table, const char *key,
                      const uint8_t *data, size_t len) {
  load_ctx *l = arg;
  /* Taken as written: it is in the store already. */
  mt_head_store_put(l->s, table, key, data, len);
  pthread_mutex_lock(&l->s->mu);
  char k[1200];
  if (strlen(key) < sizeof k - 2) {
    k[0] = (char)('0' + table);
    snprintf(k + 1, sizeof k - 1, "%s", key);
    mt_strmap_remove(&l->s->dirty, k);
  }
  pthread_mutex_unlock(&l->s->mu);
  l->fn(l->ctx, table, key, data, len);
}

bool mt_head_store_load(mt_head_store *s,
                        void (*fn)(void *ctx, int table, const char *key,
                                   const uint8_t *data, size_t len),
                        void *ctx, char *why, size_t size) {
  load_ctx l = {s, fn, ctx};
  char cause[300];
  if (!s->be->load(s->conn, on_loaded, &l, cause, sizeof cause)) {
    snprintf(why, size, "cannot read the store %s: %s", s->url, cause);
    return false;
  }
  return true;
}

bool mt_head_store_start(mt_head_store *s) {
  s->started = pthread_create(&s->writer, NULL, writer_loop, s) == 0;
  return s->started;
}

/* ---- the writer ------------------------------------------------------------
 */

static void went_down_locked(mt_head_store *s, const char *cause) {
  bool first = !s->down; /* once per failure; status has the latest cause */
  if (!s->down) {
    s->down_since_ms = mt_now_ms();
  }
  s->down = true;
  snprintf(s->error, sizeof s->error, "%s", cause);
  if (first) {
    mt_log(MT_LOG_ERROR,
           "head: the store %s failed: %s; the cluster keeps running on the "
           "head's memory, whose changes are written when the store answers "
           "again (tried every %d ms)",
           s->url, cause, RETRY_MS);
  }
}

/* The records to write (all of them, or the dirty ones) as copies, taken
 * under the lock; the dirty set is emptied. */
static mt_store_record *take_locked(mt_head_store *s, bool all, size_t *n) {
  size_t cap = s->dirty.len;
  if (all) {
    cap = 0;
    for (int t = 0; t < MT_STORE_NTABLES; t++) {
      cap += s->mirror[t].len;
    }
  }
  mt_store_record *r = calloc(cap + 1, sizeof *r);
  *n = 0;
  if (!r) {
    return NULL;
  }
  size_t pos = 0;
  const char *key;
  void *val;
  if (all) {
    for (int t = 0; t < MT_STORE_NTABLES; t++) {
      pos = 0;
      while (mt_strmap_next(&s->mirror[t], &pos, &key, &val)) {
        record *rec = val;
        uint8_t *data = malloc(rec->len ? rec->len : 1);
        char *k = strdup(key);
        if (!data || !k) {
          free(data);
          free(k);
          continue;
        }
        memcpy(data, rec->data, rec->len);
        r[(*n)++] = (mt_store_record){t, k, data, rec->len};
      }
    }
  } else {
    while (mt_strmap_next(&s->dirty, &pos, &key, &val)) {
      int t = key[0] - '0';
      record *rec = mt_strmap_get(&s->mirror[t], key + 1);
      uint8_t *data = rec ? malloc(rec->len ? rec->len : 1) : NULL;
      char *k = strdup(key + 1);
      if (!k || (rec && !data)) {
        free(data);
        free(k);
        continue;
      }
      if (rec) {
        memcpy(data, rec->data, rec->len);
      }
      r[(*n)++] = (mt_store_record){t, k, data, rec ? rec->len : 0};
    }
  }
  mt_strmap_destroy(&s->dirty);
  mt_strmap_init(&s->dirty);
  return r;
}

static void records_free(mt_store_record *r, size_t n) {
  for (size_t i = 0; r && i < n; i++) {
    free((char *)r[i].key);
    free((uint8_t *)r[i].data);
  }
  free(r);
}

/* One round: connect if needed, write what waits. False when there was
 * nothing to do or it failed (the caller waits). */
static bool write_round_locked(mt_head_store *s) {
  char why[300];
  if (!s->connected) {
    pthread_mutex_unlock(&s->mu);
    bool ok = s->be->connect(s->conn, why, sizeof why);
    pthread_mutex_lock(&s->mu);
    if (!ok) {
      went_down_locked(s, why);
      return false;
    }
    s->connected = true;
    /* It may have lost what it had (restarted without persistence):
     * everything is written again. */
    s->full_write = true;
  }
  bool all = s->full_write;
  if (!all && s->dirty.len == 0) {
    return false;
  }
  s->last_write_ms = mt_now_ms();
  size_t n;
  mt_store_record *r = take_locked(s, all, &n);
  if (!r) {
    return false;
  }
  s->full_write = false;
  pthread_mutex_unlock(&s->mu);
  bool ok = s->be->write(s->conn, r, n, all, why, sizeof why);
  pthread_mutex_lock(&s->mu);
  if (!ok) {
    s->connected = false;
    /* What was taken waits again; keys changed meanwhile are marked. */
    for (size_t i = 0; i < n && !all; i++) {
      dirty_mark_locked(s, r[i].table, r[i].key);
    }
    s->full_write = s->full_write || all;
    went_down_locked(s, why);
  } else {
    if (s->down) {
      mt_log(MT_LOG_WARN,
             "head: the store %s answers again after %lld ms: the head's "
             "state is written there again (%zu records)",
             s->url, (long long)(mt_now_ms() - s->down_since_ms), n);
      s->down = false;
      s->error[0] = '\0';
    }
  }
  records_free(r, n);
  return ok;
}

/* An idle store is checked (an empty transaction) every RETRY_MS, so
 * that its failure is reported when it happens, not at the next change. */
static void check_idle_locked(mt_head_store *s) {
  if (!s->connected || s->down || mt_now_ms() - s->last_write_ms < RETRY_MS) {
    return;
  }
  s->last_write_ms = mt_now_ms();
  char why[300];
  pthread_mutex_unlock(&s->mu);
  bool ok = s->be->write(s->conn, NULL, 0, false, why, sizeof why);
  pthread_mutex_lock(&s->mu);
  if (!ok) {
    s->connected = false;
    went_down_locked(s, why);
  }
}

static void *writer_loop(void *arg) {
  mt_head_store *s = arg;
  pthread_mutex_lock(&s->mu);
  s->last_write_ms = mt_now_ms();
  while (!s->stop) {
    if (write_round_locked(s)) {
      continue;
    }
    check_idle_locked(s);
    if (s->stop) {
      break;
    }
    struct timespec ts;
    mt_deadline(RETRY_MS, &ts);
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
  }
  /* Stopping: what waits is written once more, if the store answers. */
  if (!s->down) {
    write_round_locked(s);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* ---- status, close
 * ----------------------------------------------------------- */

void mt_head_store_status(mt_head_store *s, Manta__V1__HeadStore *out) {
  manta__v1__head_store__init(out);
  pthread_mutex_lock(&s->mu);
  out->url = strdup(s->url);
  out->cluster_name = strdup(s->cluster);
  out->ok = !s->down;
  out->error = strdup(s->error);
  out->down_for_ms = s->down ? mt_now_ms() - s->down_since_ms : 0;
  size_t pending = s->dirty.len;
  if (s->full_write) {
    pending = 0;
    for (int t = 0; t < MT_STORE_NTABLES; t++) {
      pending += s->mirror[t].len;
    }
  }
  out->pending_writes = (int64_t)pending;
  pthread_mutex_unlock(&s->mu);
  if (!out->url || !out->cluster_name || !out->error) {
    mt_head_store_status_free(out);
    manta__v1__head_store__init(out);
  }
}

void mt_head_store_status_free(Manta__V1__HeadStore *st) {
  /* Strings only: the message itself is the caller's. */
  if (st->url != protobuf_c_empty_string) {
    free(st->url);
  }
  if (st->cluster_name != protobuf_c_empty_string) {
    free(st->cluster_name);
  }
  if (st->error != protobuf_c_empty_string) {
    free(st->error);
  }
}

void mt_head_store_close(mt_head_store *s) {
  if (!s) {
    return;
  }
  if (s->started) {
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
  }
  s->be->close(s->conn);
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    size_t pos = 0;
    const char *key;
    void *val;
    while (mt_strmap_next(&s->mirror[t], &pos, &key, &val)) {
      record_free(val);
    }
    mt_strmap_destroy(&s->mirror[t]);
  }
  mt_strmap_destroy(&s->dirty);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}
