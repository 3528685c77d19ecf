/*
 * Bounded object memory: a limit on the object data this node keeps in
 * memory, and spilling to files beyond it (docs/fault-tolerance.md,
 * "Bounded object memory").
 *
 * A ready value may go to disk only when no one is reading it: values are
 * reference counted, and one whose only reference is the table's is held
 * by no running task, no get in progress and no program variable, so
 * dropping it from memory cannot change anything anyone sees. Values that
 * hold refs or actor handles stay in memory: their counts keep other
 * objects alive, and decoding them again would take rt.mu inside rt.mu.
 *
 * Files are written without rt.mu (the object is marked `spilling` and
 * retained meanwhile) and the value is dropped only if still unread when
 * the write is done. A file stays until its object is freed, so an object
 * read back and dropped again costs no second write. Reading back happens
 * under rt.mu, where every reader of an object's value already is.
 */
#include "local_state.h"
#include "rt.h"
#include "size.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Smaller values stay in memory: a file each would cost more than they
 * free. */
#define SPILL_MIN_BYTES 4096
/* Objects written per round, so a thread lets go of rt.mu between rounds
 * and never holds a long list. */
#define SPILL_BATCH 64
/* How often a thread waiting for room looks again: programs free their
 * values without rt.mu, so that is not signalled. */
#define ROOM_POLL_MS 20

/* snprintf for messages and paths that may be cut short, which is fine
 * for a message and checked for a path (SPILL paths are short). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
say(char *out, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, len, fmt, ap);
  va_end(ap);
}

/* ---- the limit ---------------------------------------------------------- */

/* /proc/meminfo's MemAvailable (what can be used without swapping). */
static uint64_t mem_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  unsigned long long kb = 0;
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
      break;
    }
  }
  if (f) {
    fclose(f);
  }
  if (kb == 0) {
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
  }
  return (uint64_t)kb * 1024;
}

/* What this process's cgroup (v2) still allows, or UINT64_MAX. */
static uint64_t cgroup_room(void) {
  char rel[512] = "", path[700];
  FILE *f = fopen("/proc/self/cgroup", "r");
  if (!f) {
    return UINT64_MAX;
  }
  char line[600];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "0::", 3) == 0) {
      say(rel, sizeof rel, "%s", line + 3);
      rel[strcspn(rel, "\n")] = '\0';
    }
  }
  fclose(f);
  unsigned long long max = 0, cur = 0;
  say(path, sizeof path, "/sys/fs/cgroup%s/memory.max", rel);
  f = fopen(path, "r");
  bool limited = f && fscanf(f, "%llu", &max) == 1;
  if (f) {
    fclose(f);
  }
  if (!limited) {
    return UINT64_MAX; /* "max", or no memory controller */
  }
  say(path, sizeof path, "/sys/fs/cgroup%s/memory.current", rel);
  f = fopen(path, "r");
  if (f && fscanf(f, "%llu", &cur) != 1) {
    cur = 0;
  }
  if (f) {
    fclose(f);
  }
  return max > cur ? max - cur : 0;
}

/*
 * Ray's default: 30% of the memory available when the node starts. The rest
 * is left to what the tasks themselves allocate, which the store cannot
 * see. A cgroup limit or an address-space limit (ulimit -v) lower than the
 * machine's memory is what the process really has, so it counts instead.
 */
static int64_t default_limit(void) {
  uint64_t room = mem_available();
  uint64_t cg = cgroup_room();
  if (cg < room) {
    room = cg;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      (uint64_t)rl.rlim_cur < room) {
    room = (uint64_t)rl.rlim_cur;
  }
  int64_t limit = (int64_t)(room / 10 * 3);
  return limit > 0 ? limit : 64 << 20;
}

static int64_t env_size(const char *name, int64_t fallback) {
  const char *text = getenv(name);
  uint64_t n;
  if (!text || !*text) {
    return fallback;
  }
  if (mt_parse_size(text, &n) != 0) {
    mt_log(MT_LOG_WARN, "%s=%s is not a size (like 2GiB); ignored", name, text);
    return fallback;
  }
  return (int64_t)n;
}

static int64_t env_ms(const char *name, int64_t fallback) {
  const char *text = getenv(name);
  char *end;
  if (!text || !*text) {
    return fallback;
  }
  long long ms = strtoll(text, &end, 10);
  if (*end || ms < 0) {
    mt_log(MT_LOG_WARN, "%s=%s is not a number of ms; ignored", name, text);
    return fallback;
  }
  return ms;
}

void mt_store_init_locked(const manta_options *opts) {
  mt_store *s = &mt_rt.store;
  memset(s, 0, sizeof *s);
  mt_cond_init(&s->room_cv);
  s->limit = opts && opts->store_memory >= 0
                 ? opts->store_memory
                 : env_size("MANTA_OBJECT_STORE_MEMORY", -1);
  if (s->limit < 0) {
    s->limit = default_limit();
  }
  s->full_ms = opts && opts->store_full_ms >= 0
                   ? opts->store_full_ms
                   : env_ms("MANTA_OBJECT_STORE_FULL_TIMEOUT_MS", 5000);
  const char *parent =
      opts && opts->spill_dir ? opts->spill_dir : getenv("MANTA_SPILL_DIR");
  snprintf(s->parent, sizeof s->parent, "%s", parent ? parent : "");
  char size[32];
  mt_format_size(size, sizeof size, (uint64_t)s->limit);
  mt_log(MT_LOG_INFO, "object store: %s in memory%s",
         s->limit ? size : "no limit",
         s->limit ? ", then spilled to disk" : "");
}

/* ---- the spill folder --------------------------------------------------- */

/* Makes this node's own folder, once: a new name made with mkdir (which
 * fails on anything already there, a symlink included), mode 0700, inside
 * the spill folder or the checked state folder. */
static bool folder_locked(void) {
  mt_store *s = &mt_rt.store;
  if (s->dir[0]) {
    return true;
  }
  char parent[512];
  if (s->parent[0]) {
    snprintf(parent, sizeof parent, "%s", s->parent);
    if (mkdir(parent, 0700) != 0 && errno != EEXIST) {
      say(s->failure, sizeof s->failure,
          "cannot create the spill folder %s: %s", parent, strerror(errno));
      return false;
    }
  } else if (mt_state_dir(parent, sizeof parent, true, s->failure,
                          sizeof s->failure) != MT_STATE_OK) {
    return false;
  }
  char dir[sizeof s->dir];
  snprintf(dir, sizeof dir, "%s/spill-%ld-%016llx", parent, (long)getpid(),
           (unsigned long long)mt_rt.node_id);
  if (mkdir(dir, 0700) != 0) {
    say(s->failure, sizeof s->failure, "cannot create %s: %s", dir,
        strerror(errno));
    return false;
  }
  memcpy(s->dir, dir, sizeof dir);
  return true;
}

static void file_path(const char *dir, uint64_t id, char *out, size_t len) {
  snprintf(out, len, "%s/%016llx", dir, (unsigned long long)id);
}

void mt_store_destroy_locked(void) {
  mt_store *s = &mt_rt.store;
  if (s->dir[0] && rmdir(s->dir) != 0) {
    mt_log(MT_LOG_WARN, "cannot remove the spill folder %s: %s", s->dir,
           strerror(errno));
  }
  s->dir[0] = '\0';
  pthread_cond_destroy(&s->room_cv);
}

void mt_store_forget_locked(mt_object *o) {
  mt_store *s = &mt_rt.store;
  if (o->value) {
    mt_rt.live_bytes -= (int64_t)o->bytes;
  } else if (o->spill) {
    s->spilled_bytes -= (int64_t)o->bytes;
    s->spilled_objects--;
  }
  if (o->spill) {
    char path[700];
    file_path(s->dir, mt_slots_id(&mt_rt.objects, o), path, sizeof path);
    if (unlink(path) != 0) {
      mt_log(MT_LOG_WARN, "cannot remove the spill file %s: %s", path,
             strerror(errno));
    }
    o->spill = MT_SPILL_NONE;
  }
  if (s->room_waiters) {
    pthread_cond_broadcast(&s->room_cv);
  }
}

/* ---- writing ------------------------------------------------------------ */

static bool write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n == 0) {
        errno = EIO;
      }
      return false;
    }
    p += n;
    len -= (size_t)n;
  }
  return true;
}

/* Writes v to path; the kind written, or MT_SPILL_NONE with why set.
 * Without rt.mu. No fsync: the file lives no longer than this process. */
static uint8_t write_file(const char *path, const manta_value *v, char *why,
                          size_t why_len) {
  const void *data;
  size_t len;
  void *coded = NULL;
  uint8_t kind = MT_SPILL_RAW;
  if (manta_get_bytes(v, &data, &len) != MANTA_OK) {
    manta_err err = manta_value_encode(v, &coded, &len);
    if (err != MANTA_OK) {
      say(why, why_len, "encoding a value to spill failed: %s",
          manta_strerror(err));
      return MT_SPILL_NONE;
    }
    data = coded;
    kind = MT_SPILL_CODED;
  }
  int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && write_all(fd, data, len);
  int saved = errno;
  if (fd >= 0 && close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  manta_free(coded);
  if (!ok) {
    say(why, why_len, "writing %s failed: %s", path, strerror(saved));
    if (fd >= 0) {
      unlink(path);
    }
    return MT_SPILL_NONE;
  }
  return kind;
}

/* ---- reading back ------------------------------------------------------- */

static void release_malloc(void *data, void *arg) {
  (void)arg;
  free(data);
}

static manta_value *read_file(const char *path, uint8_t kind, size_t bytes,
                              char *why, size_t why_len) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    say(why, why_len, "cannot open %s: %s", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return NULL;
  }
  size_t len = (size_t)st.st_size;
  char *buf = malloc(len ? len : 1);
  size_t got = 0;
  while (buf && got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += (size_t)n;
  }
  int saved = errno;
  close(fd);
  if (!buf || got != len || (kind == MT_SPILL_RAW && len != bytes)) {
    say(why, why_len, "cannot read %s: %s", path,
        !buf         ? "out of memory"
        : got != len ? strerror(saved)
                     : "its size changed");
    free(buf);
    return NULL;
  }
  manta_value *v = NULL;
  if (kind == MT_SPILL_RAW) {
    v = manta_bytes_wrap(buf, len, release_malloc, NULL);
    if (!v) {
      free(buf);
    }
  } else {
    manta_err err = manta_value_decode(buf, len, &v);
    free(buf);
    if (err != MANTA_OK) {
      say(why, why_len, "cannot decode %s: %s", path, manta_strerror(err));
      return NULL;
    }
  }
  if (!v) {
    say(why, why_len, "out of memory reading %s", path);
  }
  return v;
}

/* ---- choosing what to spill --------------------------------------------- */

bool mt_store_spillable(const manta_value *v, size_t bytes) {
  return bytes >= SPILL_MIN_BYTES && manta_value_kind(v) != MANTA_KIND_ERROR &&
         !mt_value_holds_handles(v);
}

static bool unread_locked(const mt_object *o) {
  return o->state == MT_OBJ_READY && o->value && o->spillable && !o->spilling &&
         mt_value_refcount(o->value) == 1;
}

/* Drops o's value from memory; its file holds it. */
static void drop_locked(mt_object *o, mt_garbage *g) {
  mt_garbage_add(g, o->value);
  o->value = NULL;
  mt_rt.live_bytes -= (int64_t)o->bytes;
  mt_rt.store.spilled_bytes += (int64_t)o->bytes;
  mt_rt.store.spilled_objects++;
}

static int by_use(const void *a, const void *b) {
  const mt_object *x = *(mt_object *const *)a, *y = *(mt_object *const *)b;
  return x->used < y->used ? -1 : x->used > y->used;
}

/* Why nothing (more) can be spilled, for OBJECT_STORE_FULL. */
static void in_use_locked(char *out, size_t len) {
  int64_t busy = 0, busy_bytes = 0, kept = 0, kept_bytes = 0;
  for (size_t i = 0; i < mt_rt.objects.used; i++) {
    mt_object *o = mt_slots_at(&mt_rt.objects, i);
    if (o->state != MT_OBJ_READY || !o->value || !o->bytes) {
      continue;
    }
    if (!o->spillable) {
      kept++;
      kept_bytes += (int64_t)o->bytes;
    } else if (o->spilling || mt_value_refcount(o->value) > 1) {
      busy++;
      busy_bytes += (int64_t)o->bytes;
    }
  }
  char b1[32], b2[32];
  mt_format_size(b1, sizeof b1, (uint64_t)busy_bytes);
  mt_format_size(b2, sizeof b2, (uint64_t)kept_bytes);
  snprintf(out, len,
           "%lld objects (%s) are being read (held by the program, a running "
           "task or a get) and %lld (%s) hold refs, actor handles or are "
           "smaller than %d bytes, which are never spilled",
           (long long)busy, b1, (long long)kept, b2, SPILL_MIN_BYTES);
}

/*
 * Picks unread objects, least recently used first, until `want` bytes would
 * be freed. Those with a file already are dropped at once; the others are
 * marked spilling, retained and returned with a reference to their value,
 * for the caller to write without rt.mu. Returns how many it returned.
 */
static size_t pick_locked(int64_t want, mt_object **out, manta_value **vals,
                          mt_garbage *g, bool *dropped) {
  size_t n = 0, cap = 0;
  mt_object **cands = NULL;
  for (size_t i = 0; i < mt_rt.objects.used; i++) {
    mt_object *o = mt_slots_at(&mt_rt.objects, i);
    if (!unread_locked(o)) {
      continue;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      mt_object **grown = realloc(cands, cap * sizeof *grown);
      if (!grown) {
        break; /* spill what was found so far */
      }
      cands = grown;
    }
    cands[n++] = o;
  }
  if (n > 1) {
    qsort(cands, n, sizeof *cands, by_use);
  }
  size_t k = 0;
  for (size_t i = 0; i < n && want > 0 && k < SPILL_BATCH; i++) {
    mt_object *o = cands[i];
    want -= (int64_t)o->bytes;
    if (o->spill) {
      drop_locked(o, g);
      *dropped = true;
      continue;
    }
    o->spilling = true;
    mt_obj_retain_locked(o);
    out[k] = o;
    vals[k++] = manta_value_ref(o->value);
  }
  free(cands);
  return k;
}

/* Writes the objects picked (rt.mu NOT held), then drops from memory those
 * still unread. Returns with rt.mu held again; how many were written. */
static size_t spill_picked(mt_object **objs, manta_value **vals, size_t n,
                           mt_garbage *g) {
  uint8_t kinds[SPILL_BATCH];
  char why[300] = "";
  char paths[SPILL_BATCH][700];
  bool have_dir = folder_locked();
  for (size_t i = 0; i < n; i++) {
    file_path(mt_rt.store.dir, mt_slots_id(&mt_rt.objects, objs[i]), paths[i],
              sizeof paths[i]);
  }
  mt_unlock();
  for (size_t i = 0; i < n; i++) {
    kinds[i] = have_dir && !why[0]
                   ? write_file(paths[i], vals[i], why, sizeof why)
                   : MT_SPILL_NONE;
  }
  mt_lock();
  if (why[0]) {
    snprintf(mt_rt.store.failure, sizeof mt_rt.store.failure, "%s", why);
  }
  size_t written = 0;
  for (size_t i = 0; i < n; i++) {
    mt_object *o = objs[i];
    written += kinds[i] != MT_SPILL_NONE;
    o->spilling = false;
    o->spill = kinds[i];
    /* Two references: the table's and ours. More: read meanwhile. */
    if (kinds[i] && o->value == vals[i] && mt_value_refcount(vals[i]) == 2) {
      drop_locked(o, g);
    }
    mt_garbage_add(g, vals[i]);
    mt_obj_release_locked(o, g);
  }
  return written;
}

/* Drops, without writing anything, unread objects that have a file until
 * the store is under its limit: after a read back raised it. */
static void shed_locked(mt_garbage *g) {
  int64_t over = mt_rt.live_bytes - mt_rt.store.limit;
  if (mt_rt.store.limit == 0 || over <= 0) {
    return;
  }
  for (size_t i = 0; i < mt_rt.objects.used && over > 0; i++) {
    mt_object *o = mt_slots_at(&mt_rt.objects, i);
    if (o->spill && unread_locked(o)) {
      over -= (int64_t)o->bytes;
      drop_locked(o, g);
    }
  }
}

bool mt_spill_read_prepare_locked(mt_object *o, mt_spill_read *r) {
  if (o->value || !o->spill) {
    return false;
  }
  r->id = mt_slots_id(&mt_rt.objects, o);
  r->kind = o->spill;
  r->bytes = o->bytes;
  file_path(mt_rt.store.dir, r->id, r->path, sizeof r->path);
  r->why[0] = '\0';
  return true;
}

manta_value *mt_spill_read_file(mt_spill_read *r) {
  return read_file(r->path, r->kind, r->bytes, r->why, sizeof r->why);
}

manta_value *mt_spill_read_install_locked(mt_object *o, mt_spill_read *r,
                                          manta_value *v, mt_garbage *g) {
  o->used = ++mt_rt.store.clock;
  if (o->value) {
    /* Read back meanwhile by another thread: one copy in memory. */
    mt_garbage_add(g, v);
    return manta_value_ref(o->value);
  }
  if (!v) {
    return mt_error_new(MANTA_ERR_OBJECT_LOST, "object store",
                        "object %016llx was spilled to disk and cannot be "
                        "read back: %s",
                        (unsigned long long)r->id, r->why);
  }
  mt_value_freeze(v);
  o->value = v;
  mt_rt.live_bytes += (int64_t)o->bytes;
  mt_rt.store.spilled_bytes -= (int64_t)o->bytes;
  mt_rt.store.spilled_objects--;
  manta_value *ref = manta_value_ref(v);
  shed_locked(g); /* o itself is read now: it stays */
  return ref;
}

manta_value *mt_obj_value_locked(mt_object *o, mt_garbage *g) {
  mt_spill_read r;
  if (!mt_spill_read_prepare_locked(o, &r)) {
    o->used = ++mt_rt.store.clock;
    return manta_value_ref(o->value);
  }
  return mt_spill_read_install_locked(o, &r, mt_spill_read_file(&r), g);
}

/* ---- admission ---------------------------------------------------------- */

static manta_value *full_error(int64_t bytes, int64_t waited_ms) {
  mt_store *s = &mt_rt.store;
  char lim[32], held[32], want[32], use[400];
  mt_format_size(lim, sizeof lim, (uint64_t)s->limit);
  mt_format_size(held, sizeof held, (uint64_t)mt_rt.live_bytes);
  mt_format_size(want, sizeof want, (uint64_t)bytes);
  if (bytes > s->limit) {
    return mt_error_new(MANTA_ERR_OBJECT_STORE_FULL, "object store",
                        "an object of %s is larger than the object store's "
                        "memory limit of %s (--object-store-memory, "
                        "MANTA_OBJECT_STORE_MEMORY)",
                        want, lim);
  }
  in_use_locked(use, sizeof use);
  return mt_error_new(
      MANTA_ERR_OBJECT_STORE_FULL, "object store",
      "no room for an object of %s after waiting %lld ms: the limit is %s "
      "(--object-store-memory, MANTA_OBJECT_STORE_MEMORY), %s is held in "
      "memory; %s%s%s",
      want, (long long)waited_ms, lim, held, use,
      s->failure[0] ? "; the last spill failed: " : "", s->failure);
}

manta_err mt_store_admit(size_t bytes, manta_value **why) {
  if (why) {
    *why = NULL;
  }
  if (bytes == 0) {
    return MANTA_OK;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err = MANTA_OK;
  mt_lock();
  mt_store *s = &mt_rt.store;
  if (!mt_rt.initialized || s->limit == 0 ||
      mt_rt.live_bytes + (int64_t)bytes <= s->limit) {
    mt_unlock();
    return MANTA_OK;
  }
  int64_t start = mt_now_ms();
  /* Counted as a waiter: shutdown waits for it before freeing the table. */
  mt_rt.in_wait++;
  s->failure[0] = '\0';
  while (mt_rt.live_bytes + (int64_t)bytes > s->limit && !mt_rt.shutting_down) {
    if ((int64_t)bytes > s->limit) {
      err = MANTA_ERR_OBJECT_STORE_FULL;
      break;
    }
    mt_object *objs[SPILL_BATCH];
    manta_value *vals[SPILL_BATCH];
    bool dropped = false;
    int64_t want = mt_rt.live_bytes + (int64_t)bytes - s->limit;
    size_t n = pick_locked(want, objs, vals, &g, &dropped);
    if ((n > 0 && spill_picked(objs, vals, n, &g) > 0) || dropped) {
      continue; /* look again: what was read meanwhile stayed */
    }
    int64_t left = s->full_ms - (mt_now_ms() - start);
    if (left <= 0) {
      err = MANTA_ERR_OBJECT_STORE_FULL;
      break;
    }
    struct timespec deadline;
    mt_deadline(left < ROOM_POLL_MS ? left : ROOM_POLL_MS, &deadline);
    s->room_waiters++;
    mt_cond_wait(&s->room_cv, &deadline);
    s->room_waiters--;
  }
  if (err != MANTA_OK && why) {
    *why = full_error((int64_t)bytes, mt_now_ms() - start);
  }
  if (--mt_rt.in_wait == 0 && mt_rt.shutting_down) {
    pthread_cond_broadcast(&mt_rt.exit_cv);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}
