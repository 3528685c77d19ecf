/* The head's durable store, whatever its kind (head_store.h): the mirror of
 * what the store should hold, the changes waiting to be written, the writer
 * thread that carries them there, and what ClusterStatus says of it. */
#include "head_store.h"
#include "clock.h"
#include "log.h"
#include "strmap.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often a store that failed is tried again. */
#define RETRY_MS 1000
/* The lease: its length by default, and bounds for MANTA_HEAD_LEASE_MS. */
#define LEASE_MS 5000
#define LEASE_MIN_MS 300
#define LEASE_MAX_MS 600000

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

  /* The lease (backends that have one): which head writes the store. */
  int64_t lease_ms;    /* its length */
  int64_t incarnation; /* this head's, once held; 0 before */
  int64_t renewed_ms;  /* when last renewed */
  char address[300];   /* written with it */
  bool fenced;         /* another head holds it: nothing is written */
  char holder[300];    /* that head, once fenced */
};

static void *writer_loop(void *arg);
static void went_down_locked(mt_head_store *s, const char *cause);

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

/* ---- the lease -------------------------------------------------------------
 */

/* "N ADDRESS" as a head's description. */
static void describe_holder(const char *value, char *out, size_t size) {
  char *end;
  long long n = strtoll(value, &end, 10);
  if (end != value && *end == ' ') {
    snprintf(out, size, "the head at %s (incarnation %lld)", end + 1, n);
  } else {
    snprintf(out, size, "another head (%s)", value);
  }
}

static int64_t lease_ms_from_env(void) {
  const char *env = getenv("MANTA_HEAD_LEASE_MS");
  if (!env || !*env) {
    return LEASE_MS;
  }
  char *end;
  long long v = strtoll(env, &end, 10);
  if (*end || v < LEASE_MIN_MS || v > LEASE_MAX_MS) {
    mt_log(MT_LOG_WARN,
           "head: MANTA_HEAD_LEASE_MS=%s is not a number of ms from %d to "
           "%d; the lease lasts %d ms",
           env, LEASE_MIN_MS, LEASE_MAX_MS, LEASE_MS);
    return LEASE_MS;
  }
  return v;
}

/* Whether value ("N ADDRESS") names a head at address, and nothing
 * listens there any more: bind() succeeds (SO_REUSEADDR without
 * SO_REUSEPORT: a live gRPC listener makes it fail). Port 0 never
 * matches. */
static bool holder_gone_from(const char *value, const char *address) {
  const char *sp = strchr(value, ' ');
  if (!sp || strcmp(sp + 1, address) != 0) {
    return false;
  }
  const char *colon = strrchr(address, ':');
  if (!colon || !colon[1] || strcmp(colon + 1, "0") == 0) {
    return false;
  }
  char host[256];
  const char *h = address;
  size_t n = (size_t)(colon - address);
  if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
    h++;
    n -= 2;
  }
  if (n == 0 || n >= sizeof host) {
    return false;
  }
  memcpy(host, h, n);
  host[n] = '\0';
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai) {
    return false;
  }
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
  int one = 1; /* past the dead head's connections in TIME_WAIT; a live
                  listener still makes bind fail */
  bool free_now =
      fd >= 0 &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
      bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
  if (fd >= 0) {
    close(fd);
  }
  freeaddrinfo(ai);
  return free_now;
}

bool mt_head_store_acquire(mt_head_store *s, const char *address, char *why,
                           size_t size) {
  s->lease_ms = lease_ms_from_env();
  snprintf(s->address, sizeof s->address, "%s", address);
  if (!s->be->lease) {
    return true;
  }
  char seen[300] = "", cause[300], stale[300] = "";
  bool waited = false, first = true;
  for (;;) {
    char holder[300] = "";
    int64_t inc = 0;
    int r =
        s->be->lease(s->conn, &inc, s->address, stale[0] ? stale : NULL,
                     s->lease_ms, holder, sizeof holder, cause, sizeof cause);
    if (r == 0 && !stale[0] && holder_gone_from(holder, s->address)) {
      /* This head's own address: a head restarted on its port after the
       * one holding the lease there died. Nothing to wait for. */
      mt_log(MT_LOG_WARN,
             "head: the store's lease names this head's address (%s), where "
             "nothing listens any more: its head died; taking it over",
             holder);
      snprintf(stale, sizeof stale, "%s", holder);
      continue;
    }
    stale[0] = '\0';
    if (r == 1) {
      s->incarnation = inc;
      s->renewed_ms = mt_now_ms();
      mt_log(waited ? MT_LOG_WARN : MT_LOG_INFO,
             "head: %sthis head holds the store's lease (incarnation %lld, "
             "%lld ms, renewed every %lld ms)",
             waited ? "the active head's lease expired: " : "", (long long)inc,
             (long long)s->lease_ms, (long long)(s->lease_ms / 3));
      return true;
    }
    if (r < 0 && first) {
      snprintf(why, size, "the store %s cannot be used: %s", s->url, cause);
      return false;
    }
    first = false;
    if (r == 0 && strcmp(seen, holder) != 0) {
      char who[400];
      describe_holder(holder, who, sizeof who);
      mt_log(MT_LOG_WARN,
             "head: the store %s (cluster %s) is held by %s: this head waits "
             "as a standby, serving nothing, and takes over when that "
             "head's lease (%lld ms) expires",
             s->url, s->cluster, who, (long long)s->lease_ms);
      snprintf(seen, sizeof seen, "%s", holder);
      waited = true;
    } else if (r < 0) {
      mt_log(MT_LOG_WARN,
             "head: standby: the store %s does not answer (%s); trying again",
             s->url, cause);
      s->be->connect(s->conn, cause, sizeof cause);
    }
    int64_t ms = s->lease_ms / 3;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
}

void mt_head_store_set_address(mt_head_store *s, const char *address) {
  if (s) {
    pthread_mutex_lock(&s->mu);
    snprintf(s->address, sizeof s->address, "%s", address);
    s->renewed_ms = 0; /* written at the next round */
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
}

bool mt_head_store_fenced(mt_head_store *s, char *why, size_t size) {
  if (!s) {
    return false;
  }
  pthread_mutex_lock(&s->mu);
  bool fenced = s->fenced;
  if (fenced) {
    snprintf(why, size, "%s", s->holder);
  }
  pthread_mutex_unlock(&s->mu);
  return fenced;
}

/* Renews the lease when a third of it has passed (writer thread). False
 * when it is not held (fenced, or the store failed). */
static bool renew_locked(mt_head_store *s) {
  if (!s->be->lease || s->incarnation == 0) {
    return true;
  }
  if (s->fenced) {
    return false;
  }
  if (mt_now_ms() - s->renewed_ms < s->lease_ms / 3 && s->connected) {
    return true;
  }
  char holder[300] = "", why[300], address[300];
  int64_t inc = s->incarnation;
  snprintf(address, sizeof address, "%s", s->address);
  pthread_mutex_unlock(&s->mu);
  bool connected = s->connected || s->be->connect(s->conn, why, sizeof why);
  int r = connected ? s->be->lease(s->conn, &inc, address, NULL, s->lease_ms,
                                   holder, sizeof holder, why, sizeof why)
                    : -1;
  pthread_mutex_lock(&s->mu);
  if (r == 1) {
    if (!s->connected) {
      s->connected = true;
      s->full_write = true; /* as after any reconnection */
    }
    if (inc != s->incarnation) {
      mt_log(MT_LOG_WARN,
             "head: the store's lease had expired and no other head took "
             "it: this head holds it again (incarnation %lld)",
             (long long)inc);
      s->incarnation = inc;
      s->full_write = true;
    }
    s->renewed_ms = mt_now_ms();
    return true;
  }
  if (r == 0) {
    s->fenced = true;
    describe_holder(holder, s->holder, sizeof s->holder);
    mt_log(MT_LOG_ERROR,
           "head: this head lost the store's lease (incarnation %lld) to %s: "
           "it was paused or cut off for longer than the lease (%lld ms); it "
           "writes nothing more to the store %s and refuses nodes, which "
           "move to the active head (restart it to make it a standby)",
           (long long)s->incarnation, s->holder, (long long)s->lease_ms,
           s->url);
    return false;
  }
  s->connected = false;
  went_down_locked(s, why);
  return false;
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
  if (!renew_locked(s)) {
    return false; /* fenced, or down: nothing is written */
  }
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
  if (!s->connected || s->down || s->fenced ||
      mt_now_ms() - s->last_write_ms < RETRY_MS) {
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
    /* A third of the lease at most: the renewal is due by then. */
    int64_t wait = s->incarnation && !s->fenced && s->lease_ms / 3 < RETRY_MS
                       ? s->lease_ms / 3
                       : RETRY_MS;
    mt_deadline(wait, &ts);
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
  }
  /* Stopping: what waits is written once more, if the store answers. */
  if (!s->down && !s->fenced) {
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
  out->ok = !s->down && !s->fenced;
  if (s->fenced) {
    char why[400];
    snprintf(why, sizeof why,
             "this head lost the store's lease to %s and writes nothing more",
             s->holder);
    out->error = strdup(why);
  } else {
    out->error = strdup(s->error);
  }
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
