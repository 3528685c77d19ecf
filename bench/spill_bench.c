/*
 * Spilling throughput: objects put through a small object store, so nearly
 * every byte goes to a spill file, beside a plain write of the same bytes
 * in files of the same size to the same folder, in the same run. Then both
 * read back: get of every spilled object against a plain read of the files.
 *
 * The values wrap one buffer without copying it (manta_bytes_wrap), so what
 * is timed is the store's work and the disk's, not the making of values.
 * Neither side calls fsync (spill files live no longer than the process), so
 * on a machine with free memory both mostly measure the page cache.
 *
 * usage: spill_bench [--total 1GiB] [--object 4MiB] [--store 64MiB]
 *                    [--dir DIR] [--reps 3]
 * Prints one JSON object on stdout.
 */
#include "bench_util.h"

#include <manta.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "spill_bench: %s\n", what);
  exit(1);
}

static void write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      die(strerror(errno));
    }
    p += n;
    len -= (size_t)n;
  }
}

/* Seconds to write n files of `each` bytes into dir, and to read them. */
static void plain(const char *dir, const char *buf, size_t each, size_t n,
                  double *wr, double *rd) {
  char path[1200];
  char *in = malloc(each);
  if (!in) {
    die("out of memory");
  }
  double t0 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/plain-%zu", dir, i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      die(strerror(errno));
    }
    write_all(fd, buf, each);
    close(fd);
  }
  *wr = bench_now_s() - t0;
  t0 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/plain-%zu", dir, i);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    while (fd >= 0 && got < each) {
      ssize_t r = read(fd, in + got, each - got);
      if (r <= 0) {
        break;
      }
      got += (size_t)r;
    }
    if (fd < 0 || got != each) {
      die("plain read failed");
    }
    close(fd);
  }
  *rd = bench_now_s() - t0;
  /* Removed untimed, as spill files are (with their objects). */
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/plain-%zu", dir, i);
    unlink(path);
  }
  free(in);
}

/* Seconds to put n wrapped objects through the store (spilling), and to
 * get them all back. */
static void spill(const char *buf, size_t each, size_t n, double *wr,
                  double *rd, int64_t *in_memory) {
  manta_ref *refs = calloc(n, sizeof *refs);
  if (!refs) {
    die("out of memory");
  }
  double t0 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    manta_value *v = manta_bytes_wrap((void *)buf, each, NULL, NULL);
    manta_err err = v ? manta_put(v, &refs[i]) : MANTA_ERR_NOMEM;
    manta_value_free(v);
    if (err != MANTA_OK) {
      die(manta_strerror(err));
    }
  }
  *wr = bench_now_s() - t0;
  manta_stat_get(MANTA_STAT_LIVE_OBJECT_BYTES, in_memory);
  t0 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    manta_value *v = NULL;
    if (manta_get(refs[i], 60000, &v) != MANTA_OK) {
      die("get failed");
    }
    manta_value_free(v);
  }
  *rd = bench_now_s() - t0;
  for (size_t i = 0; i < n; i++) {
    manta_ref_release(refs[i]);
  }
  free(refs);
}

static double best(const double *s, int n) {
  double b = s[0];
  for (int i = 1; i < n; i++) {
    b = s[i] < b ? s[i] : b;
  }
  return b;
}

int main(int argc, char **argv) {
  uint64_t total = 1ull << 30, each = 4ull << 20, store = 64ull << 20;
  const char *dir = NULL;
  int reps = 3;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = !v;
    if (!bad && strcmp(argv[i], "--total") == 0) {
      bad = bench_parse_size(v, &total);
    } else if (!bad && strcmp(argv[i], "--object") == 0) {
      bad = bench_parse_size(v, &each);
    } else if (!bad && strcmp(argv[i], "--store") == 0) {
      bad = bench_parse_size(v, &store);
    } else if (!bad && strcmp(argv[i], "--dir") == 0) {
      dir = v;
    } else if (!bad && strcmp(argv[i], "--reps") == 0) {
      reps = atoi(v);
      bad = reps < 1 || reps > 100;
    } else {
      bad = 1;
    }
    if (bad) {
      fprintf(stderr, "usage: spill_bench [--total 1GiB] [--object 4MiB] "
                      "[--store 64MiB] [--dir DIR] [--reps 3]\n");
      return 2;
    }
    i++;
  }
  char tmpl[1024];
  snprintf(tmpl, sizeof tmpl, "%s/manta-spill-bench-XXXXXX",
           dir                ? dir
           : getenv("TMPDIR") ? getenv("TMPDIR")
                              : "/tmp");
  if (!mkdtemp(tmpl)) {
    die(strerror(errno));
  }
  size_t n = total / each;
  char *buf = malloc(each);
  if (!buf || n == 0) {
    die("bad sizes");
  }
  for (size_t i = 0; i < each; i++) {
    buf[i] = (char)(i * 131 + (i >> 12)); /* not all zeros: no shortcuts */
  }
  manta_options *o;
  if (manta_options_new(&o) != MANTA_OK ||
      manta_options_set_object_store_memory(o, store) != MANTA_OK ||
      manta_options_set_spill_dir(o, tmpl) != MANTA_OK ||
      manta_init(o) != MANTA_OK) {
    die("manta_init failed");
  }
  manta_options_free(o);
  double pw[100], pr[100], sw[100], sr[100];
  int64_t in_memory = 0;
  for (int r = 0; r < reps; r++) {
    /* Alternate which goes first, so neither always meets a page cache
     * the other just filled. */
    if (r % 2 == 0) {
      plain(tmpl, buf, each, n, &pw[r], &pr[r]);
    }
    spill(buf, each, n, &sw[r], &sr[r], &in_memory);
    if (r % 2 == 1) {
      plain(tmpl, buf, each, n, &pw[r], &pr[r]);
    }
  }
  manta_shutdown();
  rmdir(tmpl);
  double bytes = (double)(n * each);
  char ts[32], es[32], ss[32];
  bench_format_size(ts, sizeof ts, n * each);
  bench_format_size(es, sizeof es, each);
  bench_format_size(ss, sizeof ss, store);
  printf("{\"total\": \"%s\", \"object\": \"%s\", \"store\": \"%s\", "
         "\"reps\": %d,\n"
         " \"plain_write_gbps\": %.3f, \"spill_write_gbps\": %.3f,\n"
         " \"plain_read_gbps\": %.3f, \"restore_gbps\": %.3f,\n"
         " \"in_memory_after_puts_bytes\": %lld}\n",
         ts, es, ss, reps, bytes / best(pw, reps) / 1e9,
         bytes / best(sw, reps) / 1e9, bytes / best(pr, reps) / 1e9,
         bytes / best(sr, reps) / 1e9, (long long)in_memory);
  free(buf);
  return 0;
}
