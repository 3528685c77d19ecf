/*
 * name_match: for every name of a query file, the k nearest names of a
 * reference file by edit distance, searched in parallel with manta.
 *
 * The reference names are split into chunks, each built once by a task
 * (name_match.build_chunk) into an object that every search task reads in
 * place. One task (name_match.top_k) runs per (query batch, chunk); the
 * searches of a batch form a chain, each taking the answer of the one
 * before as an argument (a dependency), so it skips what cannot beat the
 * k-th best found so far and passes the merged answer on. The batches run
 * side by side; the last search of each chain has its answer. The
 * functions come from
 * name_match_module.so, loaded with manta_module_load, so a cluster node
 * can load the same library. --sequential runs the same kernel in this
 * thread without manta. See docs/name_match.md, and --help.
 */
#include "nm_chunk.h"
#include "nm_csv.h"
#include "nm_output.h"
#include "nm_progress.h"
#include "nm_result.h"
#include "nm_topk.h"

#include <manta.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MODULE_FILE "name_match_module.so"

enum { RUN_MANTA, RUN_SEQUENTIAL, RUN_COMPARE };

typedef struct config {
  const char *ref_path, *query_path;
  const char *ref_column, *query_column;
  bool no_header;
  char separator;
  uint32_t k, max_distance;
  nm_norm norm;
  nm_kernel kernel;
  const char *output, *json, *address;
  char *module;
  size_t chunk_size, batch_size;
  double cpus;
  int run, progress;
  bool quiet;
} config;

/* The names, as the kernel takes them: pointers and lengths. */
typedef struct names {
  nm_column col;
  const char **s;
  size_t *len;
} names;

/* One run's answer and figures. */
typedef struct run {
  nm_match *best; /* k per query */
  uint32_t *counts;
  double seconds, cpus;
  size_t tasks;
  int64_t peak_rss;     /* of the process, when the run ended */
  uint64_t chunk_bytes; /* sequential: the chunks' size */
} run;

static const char *prog = "name_match";

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: name_match [options] REFERENCE.csv QUERIES.csv\n"
      "\n"
      "For every name of QUERIES.csv, the k names of REFERENCE.csv nearest\n"
      "by edit distance (Levenshtein over code points, after "
      "normalization),\n"
      "searched in parallel as manta tasks. The matches are written as CSV,\n"
      "  query_row,query,rank,match_row,match,distance,similarity\n"
      "best first: the smallest distance, then the earliest reference row.\n"
      "\n"
      "Matching:\n"
      "  -k, --k N             matches per query, 1..%d (default 3)\n"
      "  --max-distance N      only matches within N edits (default: no "
      "limit)\n"
      "  --normalize MODE      names: fold case, drop ' and ., read other\n"
      "                        punctuation as spaces, collapse spaces "
      "(default);\n"
      "                        case: fold case only; none: as written\n"
      "Input:\n"
      "  --column COL          the name column of both files: a header name "
      "or\n"
      "                        a 1-based number (default: the column "
      "\"name\"\n"
      "                        if the header has one, else the first)\n"
      "  --ref-column COL      the name column of REFERENCE.csv (default: "
      "--column)\n"
      "  --query-column COL    the name column of QUERIES.csv (default: "
      "--column)\n"
      "  --no-header           the files have no header line\n"
      "  --separator C         field separator: one character, or 'tab' "
      "(default ,)\n"
      "Output:\n"
      "  -o, --output FILE     write the matches to FILE (default: stdout)\n"
      "  --json FILE           write the run's figures as JSON to FILE\n"
      "  --progress            draw a progress line on stderr (default: when\n"
      "                        stderr is a terminal)\n"
      "  --no-progress         never draw it\n"
      "  --quiet               no summary lines on stderr\n"
      "Running:\n"
      "  --sequential          search in this thread, without manta (the "
      "same kernel)\n"
      "  --compare             search with manta, then sequentially; check "
      "that both\n"
      "                        give the same matches; print both timings "
      "and the speedup\n"
      "  --cpus N              CPU slots of the manta node (default: the "
      "cores)\n"
      "  --address HOST:PORT   join the manta cluster there (default: an "
      "embedded\n"
      "                        runtime, or MANTA_ADDRESS if set)\n"
      "  --module PATH         the module to load (default: %s next to\n"
      "                        this program)\n"
      "  --chunk-size N        reference names per chunk (default 50000)\n"
      "  --batch-size N        queries per task (default 64)\n"
      "  --kernel NAME         auto (default: the best this CPU runs), "
      "scalar,\n"
      "                        generic, avx2, avx512\n"
      "  -h, --help            this text\n"
      "\n"
      "Exit status: 0 done, 1 failed while running, 2 bad arguments or "
      "input.\n",
      NM_K_MAX, MODULE_FILE);
}

static void die_usage(const char *fmt, const char *a, const char *b)
    __attribute__((noreturn));

static void die_usage(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "%s: ", prog);
  fprintf(stderr, fmt, a, b);
  fprintf(stderr, "\n");
  exit(2);
}

static unsigned long long parse_number(const char *opt, const char *s,
                                       unsigned long long min,
                                       unsigned long long max) {
  char *end;
  errno = 0;
  unsigned long long v = 0;
  bool ok = s && *s >= '0' && *s <= '9';
  if (ok) {
    v = strtoull(s, &end, 10);
    ok = !errno && !*end && v >= min && v <= max;
  }
  if (!ok) {
    fprintf(stderr, "%s: %s takes a whole number from %llu to %llu, got '%s'\n",
            prog, opt, min, max, s ? s : "");
    exit(2);
  }
  return v;
}

static char *default_module(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    return strdup(MODULE_FILE);
  }
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  size_t dir = slash ? (size_t)(slash - exe) + 1 : 0;
  char *path = malloc(dir + sizeof MODULE_FILE);
  if (path) {
    memcpy(path, exe, dir);
    memcpy(path + dir, MODULE_FILE, sizeof MODULE_FILE);
  }
  return path;
}

static void parse_args(int argc, char **argv, config *c) {
  *c = (config){.k = 3,
                .max_distance = UINT32_MAX,
                .norm = NM_NORM_DEFAULT,
                .kernel = NM_KERNEL_AUTO,
                .separator = ',',
                .chunk_size = 50000,
                .batch_size = 64,
                .run = RUN_MANTA,
                .progress = NM_PROGRESS_AUTO};
  const char *column = NULL, *module = NULL;
  const char *files[2];
  int nfiles = 0;
  bool sequential = false, compare = false;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    /* --opt=value is --opt value */
    char *value = NULL;
    char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    if (eq) {
      *eq = '\0';
      value = eq + 1;
    }
#define IS(name) (strcmp(a, name) == 0)
#define VALUE()                                                                \
  (value ? value                                                               \
   : i + 1 < argc                                                              \
       ? argv[++i]                                                             \
       : (die_usage("%s needs a value (try --help)", a, NULL), (char *)NULL))
    if (IS("-h") || IS("--help")) {
      usage(stdout);
      exit(0);
    } else if (IS("-k") || IS("--k")) {
      c->k = (uint32_t)parse_number("-k", VALUE(), 1, NM_K_MAX);
    } else if (IS("--max-distance")) {
      c->max_distance =
          (uint32_t)parse_number("--max-distance", VALUE(), 0, 1000000);
    } else if (IS("--normalize")) {
      const char *v = VALUE();
      if (nm_norm_parse(v, &c->norm) != 0) {
        die_usage("--normalize takes names, case or none, got '%s'", v, NULL);
      }
    } else if (IS("--column")) {
      column = VALUE();
    } else if (IS("--ref-column")) {
      c->ref_column = VALUE();
    } else if (IS("--query-column")) {
      c->query_column = VALUE();
    } else if (IS("--no-header")) {
      c->no_header = true;
    } else if (IS("--separator")) {
      const char *v = VALUE();
      if (strcmp(v, "tab") == 0) {
        c->separator = '\t';
      } else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\n') {
        c->separator = v[0];
      } else {
        die_usage("--separator takes one character or 'tab', got '%s'", v,
                  NULL);
      }
    } else if (IS("-o") || IS("--output")) {
      c->output = VALUE();
    } else if (IS("--json")) {
      c->json = VALUE();
    } else if (IS("--progress")) {
      c->progress = NM_PROGRESS_ON;
    } else if (IS("--no-progress")) {
      c->progress = NM_PROGRESS_OFF;
    } else if (IS("--quiet")) {
      c->quiet = true;
    } else if (IS("--sequential")) {
      sequential = true;
    } else if (IS("--compare")) {
      compare = true;
    } else if (IS("--cpus")) {
      c->cpus = (double)parse_number("--cpus", VALUE(), 1, 4096);
    } else if (IS("--address")) {
      c->address = VALUE();
      if (!strchr(c->address, ':')) {
        die_usage("--address takes HOST:PORT, got '%s'", c->address, NULL);
      }
    } else if (IS("--module")) {
      module = VALUE();
    } else if (IS("--chunk-size")) {
      c->chunk_size = parse_number("--chunk-size", VALUE(), 1, 100000000);
    } else if (IS("--batch-size")) {
      c->batch_size = parse_number("--batch-size", VALUE(), 1, 1000000);
    } else if (IS("--kernel")) {
      const char *v = VALUE();
      if (nm_kernel_parse(v, &c->kernel) != 0) {
        die_usage("--kernel takes auto, scalar, generic, avx2 or avx512, got "
                  "'%s'",
                  v, NULL);
      }
      if (!nm_kernel_supported(c->kernel)) {
        die_usage("--kernel %s: this CPU does not run it", v, NULL);
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      die_usage("unknown option '%s' (try --help)", a, NULL);
    } else if (nfiles < 2) {
      files[nfiles++] = a;
    } else {
      die_usage("one reference file and one query file, not more (extra: "
                "'%s')",
                a, NULL);
    }
    if (value &&
        (IS("--no-header") || IS("--progress") || IS("--no-progress") ||
         IS("--quiet") || IS("--sequential") || IS("--compare"))) {
      die_usage("%s takes no value", a, NULL);
    }
#undef IS
#undef VALUE
  }
  if (nfiles != 2) {
    usage(stderr);
    exit(2);
  }
  if (sequential && compare) {
    die_usage("--sequential and --compare exclude each other", NULL, NULL);
  }
  c->run = sequential ? RUN_SEQUENTIAL : compare ? RUN_COMPARE : RUN_MANTA;
  if (sequential && c->address) {
    die_usage("--sequential runs without manta: --address makes no sense "
              "with it",
              NULL, NULL);
  }
  c->ref_path = files[0];
  c->query_path = files[1];
  if (!c->ref_column) {
    c->ref_column = column;
  }
  if (!c->query_column) {
    c->query_column = column;
  }
  c->module = module ? strdup(module) : default_module();
  if (!c->module) {
    fprintf(stderr, "%s: out of memory\n", prog);
    exit(1);
  }
  if (c->run != RUN_SEQUENTIAL && access(c->module, R_OK) != 0) {
    fprintf(stderr,
            "%s: cannot read the module '%s': %s (build the target "
            "name_match_module, or give --module PATH)\n",
            prog, c->module, strerror(errno));
    exit(2);
  }
}

static void read_names(const config *c, const char *path, const char *column,
                       const char *what, names *out) {
  nm_csv_spec spec = {column, !c->no_header, c->separator};
  char err[512];
  if (nm_csv_read_column(path, &spec, &out->col, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n", prog, err);
    exit(2);
  }
  if (out->col.count == 0) {
    fprintf(stderr, "%s: %s has no %s names\n", prog, path, what);
    exit(2);
  }
  size_t n = out->col.count;
  out->s = malloc(n * sizeof *out->s);
  out->len = malloc(n * sizeof *out->len);
  if (!out->s || !out->len) {
    fprintf(stderr, "%s: out of memory\n", prog);
    exit(1);
  }
  for (size_t i = 0; i < n; i++) {
    out->s[i] = out->col.text + out->col.start[i];
    out->len[i] = out->col.len[i];
  }
}

static void free_names(names *n) {
  nm_column_free(&n->col);
  free(n->s);
  free(n->len);
}

static int alloc_run(run *r, size_t nq, uint32_t k) {
  memset(r, 0, sizeof *r);
  r->best = malloc(nq * k * sizeof *r->best);
  r->counts = calloc(nq, sizeof *r->counts);
  return r->best && r->counts ? 0 : -1;
}

static void free_run(run *r) {
  free(r->best);
  free(r->counts);
}

/* ---- with manta --------------------------------------------------------- */

/* The plan both runs follow: chunks of the reference set, batches of
 * queries, one search per (batch, chunk). */
typedef struct plan {
  size_t nchunks, nbatches;
} plan;

static plan make_plan(const config *c, const names *refs,
                      const names *queries) {
  plan p = {(refs->col.count + c->chunk_size - 1) / c->chunk_size,
            (queries->col.count + c->batch_size - 1) / c->batch_size};
  return p;
}

static size_t span(size_t index, size_t size, size_t total, size_t *first) {
  *first = index * size;
  return total - *first < size ? total - *first : size;
}

/* A list value of strings from names [first, first + n). */
static manta_value *string_list(const names *in, size_t first, size_t n) {
  manta_value *list = manta_list();
  for (size_t i = 0; list && i < n; i++) {
    if (manta_list_push(list, manta_string(in->s[first + i],
                                           in->len[first + i])) != MANTA_OK) {
      manta_value_free(list);
      list = NULL;
    }
  }
  return list;
}

static void free_packed(void *data, void *arg) {
  (void)arg;
  free(data);
}

/* Names [first, first + n) as build_chunk takes them: packed in one bytes
 * value, each followed by a NUL; a list of strings if a name holds a NUL
 * itself. */
static manta_value *chunk_names(const names *in, size_t first, size_t n) {
  size_t size = 0;
  for (size_t i = first; i < first + n; i++) {
    if (memchr(in->s[i], '\0', in->len[i])) {
      return string_list(in, first, n);
    }
    size += in->len[i] + 1;
  }
  char *packed = malloc(size ? size : 1), *p = packed;
  for (size_t i = first; packed && i < first + n; i++) {
    memcpy(p, in->s[i], in->len[i]);
    p += in->len[i];
    *p++ = '\0';
  }
  manta_value *v =
      packed ? manta_bytes_wrap(packed, size, free_packed, NULL) : NULL;
  if (!v) {
    free(packed);
  }
  return v;
}

static void print_error_value(const char *what, const manta_value *v) {
  char *text = manta_value_repr(v);
  fprintf(stderr, "%s: %s: %s\n", prog, what, text ? text : "(no memory)");
  manta_free(text);
}

/* Merges one task's answer (batch of queries from `first`) into r. Rows
 * are checked against the nrefs names: they index the driver's own. */
static int merge_value(run *r, const manta_value *v, size_t first, size_t nq,
                       uint32_t k, size_t nrefs) {
  manta_value *err =
      nm_result_read(v, nq, k, nrefs, r->best + first * k, r->counts + first);
  if (err) {
    fprintf(stderr, "%s: name_match.top_k gave a bad answer: %s\n", prog,
            manta_error_message(err));
    manta_value_free(err);
    return -1;
  }
  return 0;
}

static int start_manta(const config *c) {
  manta_options *opts;
  if (manta_options_new(&opts) != MANTA_OK) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return -1;
  }
  if (c->cpus > 0) {
    manta_options_set_num_cpus(opts, c->cpus);
  }
  if (c->address) {
    manta_options_set_address(opts, c->address);
  }
  manta_err err = manta_init(opts);
  manta_options_free(opts);
  if (err != MANTA_OK) {
    const char *env = getenv("MANTA_ADDRESS");
    const char *where = c->address ? c->address : env && *env ? env : NULL;
    if (where) {
      fprintf(stderr, "%s: cannot join the manta cluster at %s: %s\n", prog,
              where, manta_strerror(err));
    } else {
      fprintf(stderr, "%s: cannot start manta: %s\n", prog,
              manta_strerror(err));
    }
    return -1;
  }
  err = manta_module_load(c->module);
  if (err != MANTA_OK) {
    fprintf(stderr, "%s: cannot load the module '%s': %s\n", prog, c->module,
            manta_strerror(err));
    manta_shutdown();
    return -1;
  }
  return 0;
}

/* Reports a submission that failed; releases the n refs made before it. */
static int submit_failed(const char *what, manta_err err, const manta_ref *refs,
                         size_t n) {
  fprintf(stderr, "%s: submitting %s failed: %s\n", prog, what,
          manta_strerror(err));
  for (size_t i = 0; i < n; i++) {
    manta_ref_release(refs[i]);
  }
  return -1;
}

/* Submits one build per chunk; the refs go to chunks[]. */
static int submit_builds(const config *c, const names *refs, const plan *p,
                         manta_ref *chunks) {
  for (size_t ch = 0; ch < p->nchunks; ch++) {
    size_t first, n = span(ch, c->chunk_size, refs->col.count, &first);
    manta_err err = manta_call(
        &chunks[ch], "name_match.build_chunk", 3, chunk_names(refs, first, n),
        manta_int((int64_t)first), manta_str(nm_norm_name(c->norm)));
    if (err != MANTA_OK) {
      return submit_failed("a chunk", err, chunks, ch);
    }
  }
  return 0;
}

static manta_value *search_options(const config *c) {
  manta_value *opts = manta_map();
  if (opts && c->max_distance != UINT32_MAX &&
      manta_map_put(opts, "max_distance", manta_int(c->max_distance)) !=
          MANTA_OK) {
    manta_value_free(opts);
    return NULL;
  }
  if (opts &&
      manta_map_put(opts, "kernel", manta_cstring(nm_kernel_name(c->kernel))) !=
          MANTA_OK) {
    manta_value_free(opts);
    return NULL;
  }
  return opts;
}

/* Submits the searches, task b * nchunks + ch for (batch b, chunk ch),
 * each taking the one before in its batch as prior. */
static int submit_searches(const config *c, const names *queries, const plan *p,
                           const manta_ref *chunks, manta_ref *tasks) {
  manta_value *k = manta_int(c->k), *opts = search_options(c);
  manta_err err = k && opts ? MANTA_OK : MANTA_ERR_NOMEM;
  size_t submitted = 0;
  for (size_t b = 0; err == MANTA_OK && b < p->nbatches; b++) {
    size_t first, n = span(b, c->batch_size, queries->col.count, &first);
    manta_value *batch = string_list(queries, first, n);
    err = batch ? MANTA_OK : MANTA_ERR_NOMEM;
    for (size_t ch = 0; err == MANTA_OK && ch < p->nchunks; ch++) {
      manta_value *chunk = manta_ref_value(chunks[ch]);
      manta_value *prior =
          ch == 0 ? manta_null() : manta_ref_value(tasks[submitted - 1]);
      const manta_value *args[5] = {batch, chunk, k, opts, prior};
      err = chunk && prior ? manta_submit("name_match.top_k", args, 5, NULL,
                                          &tasks[submitted])
                           : MANTA_ERR_NOMEM;
      submitted += err == MANTA_OK;
      manta_value_free(chunk);
      manta_value_free(prior);
    }
    manta_value_free(batch);
  }
  manta_value_free(k);
  manta_value_free(opts);
  return err == MANTA_OK ? 0 : submit_failed("a search", err, tasks, submitted);
}

/* Collects the searches as they finish; the last of each chain holds its
 * batch's answer. */
static int collect(const config *c, const names *queries, size_t nrefs,
                   const plan *p, manta_ref *tasks, run *r) {
  size_t n = p->nbatches * p->nchunks, pending = n, done = 0;
  size_t *index = malloc(n * sizeof *index);
  manta_ref *ready = malloc(n * sizeof *ready);
  manta_ref *waiting = malloc(n * sizeof *waiting);
  if (!index || !ready || !waiting) {
    fprintf(stderr, "%s: out of memory\n", prog);
    free(index), free(ready), free(waiting);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    index[i] = i;
  }
  nm_progress bar;
  nm_progress_start(&bar, "manta", (double)queries->col.count, c->progress);
  int rc = 0;
  while (pending > 0 && rc == 0) {
    size_t nready = 0, nwaiting = 0;
    manta_wait(tasks, pending, pending, 100, ready, &nready, waiting,
               &nwaiting);
    /* ready and waiting keep the order of tasks: walk them together. */
    size_t kept = 0, next_ready = 0;
    for (size_t i = 0; i < pending; i++) {
      if (rc != 0 || next_ready >= nready ||
          tasks[i].id != ready[next_ready].id) {
        tasks[kept] = tasks[i];
        index[kept++] = index[i];
        continue;
      }
      next_ready++;
      done++;
      bool last = index[i] % p->nchunks == p->nchunks - 1;
      manta_value *v = NULL;
      if (last && manta_get(tasks[i], 0, &v) != MANTA_OK) {
        /* A failure anywhere in a chain ends up here, as the cause. */
        print_error_value("a search failed", v);
        rc = -1;
      } else if (last) {
        size_t first, nq = span(index[i] / p->nchunks, c->batch_size,
                                queries->col.count, &first);
        rc = merge_value(r, v, first, nq, c->k, nrefs);
      }
      manta_value_free(v);
      manta_ref_release(tasks[i]);
    }
    pending = kept;
    nm_progress_update(&bar,
                       (double)done / (double)n * (double)queries->col.count);
  }
  nm_progress_end(&bar);
  for (size_t i = 0; i < pending; i++) {
    manta_ref_release(tasks[i]);
  }
  free(index), free(ready), free(waiting);
  return rc;
}

static int64_t peak_rss(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t)ru.ru_maxrss * 1024;
}

static int run_manta(const config *c, const names *refs, const names *queries,
                     run *r) {
  if (start_manta(c) != 0) {
    return -1;
  }
  plan p = make_plan(c, refs, queries);
  manta_ref *chunks = malloc(p.nchunks * sizeof *chunks);
  manta_ref *tasks = malloc(p.nbatches * p.nchunks * sizeof *tasks);
  int rc = -1;
  double t0 = nm_now();
  if (chunks && tasks && submit_builds(c, refs, &p, chunks) == 0) {
    rc = submit_searches(c, queries, &p, chunks, tasks);
    /* The searches hold the chunks now: each is freed after its last. */
    for (size_t ch = 0; ch < p.nchunks; ch++) {
      manta_ref_release(chunks[ch]);
    }
    if (rc == 0) {
      rc = collect(c, queries, refs->col.count, &p, tasks, r);
    }
  } else if (!chunks || !tasks) {
    fprintf(stderr, "%s: out of memory\n", prog);
  }
  r->seconds = nm_now() - t0;
  r->tasks = p.nbatches * p.nchunks;
  manta_resource_get("CPU", &r->cpus, &(double){0});
  free(chunks), free(tasks);
  manta_shutdown();
  r->peak_rss = peak_rss();
  return rc;
}

/* ---- without manta ------------------------------------------------------ */

static int run_sequential(const config *c, const names *refs,
                          const names *queries, run *r) {
  plan p = make_plan(c, refs, queries);
  void **blobs = calloc(p.nchunks, sizeof *blobs);
  nm_chunk_view *views = calloc(p.nchunks, sizeof *views);
  nm_match *part = malloc(c->batch_size * c->k * sizeof *part);
  uint32_t *part_counts = malloc(c->batch_size * sizeof *part_counts);
  int64_t *limits = malloc(c->batch_size * sizeof *limits);
  nm_topk_options opt = {c->k, c->max_distance, c->kernel};
  int rc = blobs && views && part && part_counts && limits ? 0 : -1;
  const char *problem = rc ? "out of memory" : NULL;
  nm_progress bar;
  nm_progress_start(&bar, "sequential", (double)queries->col.count,
                    c->progress);
  double t0 = nm_now();
  for (size_t ch = 0; rc == 0 && ch < p.nchunks; ch++) {
    size_t first, n = span(ch, c->chunk_size, refs->col.count, &first);
    size_t len;
    problem = nm_chunk_build(refs->s + first, refs->len + first, n, first,
                             c->norm, &blobs[ch], &len);
    if (!problem) {
      problem = nm_chunk_view_init(&views[ch], blobs[ch], len);
      r->chunk_bytes += len;
    }
    rc = problem ? -1 : 0;
  }
  for (size_t b = 0; rc == 0 && b < p.nbatches; b++) {
    size_t first, nq = span(b, c->batch_size, queries->col.count, &first);
    /* The same chain as with manta: each chunk within the limits the
     * chunks before it set. */
    for (size_t ch = 0; rc == 0 && ch < p.nchunks; ch++) {
      for (size_t q = 0; q < nq; q++) {
        limits[q] =
            nm_match_limit(r->best + (first + q) * c->k, r->counts[first + q],
                           c->k, views[ch].first_row);
      }
      problem = nm_top_k(&views[ch], queries->s + first, queries->len + first,
                         nq, &opt, limits, part, part_counts);
      rc = problem ? -1 : 0;
      for (size_t q = 0; rc == 0 && q < nq; q++) {
        nm_match_merge(r->best + (first + q) * c->k, &r->counts[first + q],
                       part + q * c->k, part_counts[q], c->k);
      }
      nm_progress_update(&bar, (double)first + (double)nq * (double)(ch + 1) /
                                                   (double)p.nchunks);
    }
  }
  r->seconds = nm_now() - t0;
  r->tasks = p.nbatches * p.nchunks;
  r->cpus = 1;
  r->peak_rss = peak_rss();
  nm_progress_end(&bar);
  if (problem) {
    fprintf(stderr, "%s: sequential search failed: %s\n", prog, problem);
  }
  for (size_t ch = 0; blobs && ch < p.nchunks; ch++) {
    free(blobs[ch]);
  }
  free(blobs), free(views), free(part), free(part_counts), free(limits);
  return rc;
}

/* ---- reporting ---------------------------------------------------------- */

static bool same_answer(const run *a, const run *b, size_t nq, uint32_t k) {
  for (size_t q = 0; q < nq; q++) {
    if (a->counts[q] != b->counts[q]) {
      return false;
    }
    for (uint32_t i = 0; i < a->counts[q]; i++) {
      const nm_match *x = &a->best[q * k + i], *y = &b->best[q * k + i];
      if (x->row != y->row || x->distance != y->distance ||
          x->similarity != y->similarity) {
        return false;
      }
    }
  }
  return true;
}

static void summary_line(const char *what, const run *r, size_t nq) {
  fprintf(stderr, "%s: %s: %zu queries in %.2f s = %.1f queries/s\n", prog,
          what, nq, r->seconds, (double)nq / r->seconds);
}

static void cpu_model(char *out, size_t size) {
  snprintf(out, size, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) == 0 && colon) {
      snprintf(out, size, "%s", colon + 2);
      out[strcspn(out, "\n")] = '\0';
      break;
    }
  }
  if (f) {
    fclose(f);
  }
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') {
      fprintf(f, "\\%c", *s);
    } else if ((unsigned char)*s < 0x20) {
      fprintf(f, "\\u%04x", *s);
    } else {
      fputc(*s, f);
    }
  }
  fputc('"', f);
}

static void json_run(FILE *f, const char *name, const run *r, size_t nq) {
  double rate = (double)nq / r->seconds;
  fprintf(f,
          "  \"%s\": {\"seconds\": %.3f, \"records_per_second\": %.2f, "
          "\"cpus\": %.0f, \"records_per_second_per_core\": %.2f, "
          "\"tasks\": %zu, \"peak_rss_bytes_so_far\": %lld},\n",
          name, r->seconds, rate, r->cpus, rate / r->cpus, r->tasks,
          (long long)r->peak_rss);
}

static int write_json(FILE *f, const config *c, const names *refs,
                      const names *queries, const run *m, const run *s,
                      const double load[2][3]) {
  char model[128], date[32];
  struct utsname un;
  uname(&un);
  cpu_model(model, sizeof model);
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  size_t nq = queries->col.count;
  fprintf(f, "{\n  \"benchmark\": \"name_match\",\n  \"date\": \"%s\",\n",
          date);
  fprintf(f, "  \"machine\": {\"cpu\": ");
  json_string(f, model);
  fprintf(f,
          ", \"online_cores\": %ld, \"kernel\": \"%s %s\", "
          "\"loadavg_before\": [%.2f, %.2f, %.2f], "
          "\"loadavg_after\": [%.2f, %.2f, %.2f]},\n",
          sysconf(_SC_NPROCESSORS_ONLN), un.sysname, un.release, load[0][0],
          load[0][1], load[0][2], load[1][0], load[1][1], load[1][2]);
  fprintf(f,
          "  \"reference_names\": %zu,\n  \"queries\": %zu,\n  \"k\": %u,\n"
          "  \"normalize\": \"%s\",\n  \"kernel\": \"%s\",\n"
          "  \"chunk_size\": %zu,\n  \"batch_size\": %zu,\n",
          refs->col.count, nq, c->k, nm_norm_name(c->norm),
          nm_kernel_name(c->kernel == NM_KERNEL_AUTO ? nm_kernel_best()
                                                     : c->kernel),
          c->chunk_size, c->batch_size);
  if (m) {
    json_run(f, "manta", m, nq);
  }
  if (s) {
    json_run(f, "sequential", s, nq);
    fprintf(f, "  \"chunk_bytes\": %llu,\n",
            (unsigned long long)s->chunk_bytes);
  }
  if (m && s) {
    fprintf(f, "  \"speedup\": %.3f,\n  \"same_matches\": %s,\n",
            s->seconds / m->seconds,
            same_answer(m, s, nq, c->k) ? "true" : "false");
  }
  fprintf(f, "  \"peak_rss_bytes\": %lld\n}\n", (long long)peak_rss());
  return ferror(f) ? -1 : 0;
}

/* Opens a file to write, or exits with status 2: a path that cannot be
 * written is found before the work, not after. */
static FILE *open_output(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: cannot write '%s': %s\n", prog, path, strerror(errno));
    exit(2);
  }
  return f;
}

static void read_load(double out[3]) {
  out[0] = out[1] = out[2] = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf %lf %lf", &out[0], &out[1], &out[2]) != 3) {
      out[0] = out[1] = out[2] = -1;
    }
    fclose(f);
  }
}

int main(int argc, char **argv) {
  config c;
  parse_args(argc, argv, &c);
  double load[2][3];
  read_load(load[0]);
  double t0 = nm_now();
  names refs, queries;
  read_names(&c, c.ref_path, c.ref_column, "reference", &refs);
  read_names(&c, c.query_path, c.query_column, "query", &queries);
  size_t nq = queries.col.count;
  FILE *out = c.output ? open_output(c.output) : stdout;
  FILE *json = c.json ? open_output(c.json) : NULL;
  if (!c.quiet) {
    fprintf(stderr,
            "%s: %zu reference names (column '%s'), %zu queries (column "
            "'%s'), read in %.2f s; k=%u, normalize=%s, kernel=%s\n",
            prog, refs.col.count, refs.col.title, nq, queries.col.title,
            nm_now() - t0, c.k, nm_norm_name(c.norm),
            nm_kernel_name(c.kernel == NM_KERNEL_AUTO ? nm_kernel_best()
                                                      : c.kernel));
  }
  run m = {0}, s = {0};
  bool use_m = c.run != RUN_SEQUENTIAL, use_s = c.run != RUN_MANTA;
  if ((use_m && alloc_run(&m, nq, c.k) != 0) ||
      (use_s && alloc_run(&s, nq, c.k) != 0)) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return 1;
  }
  int rc = 0;
  if (use_m) {
    rc = run_manta(&c, &refs, &queries, &m);
    if (rc == 0 && !c.quiet) {
      char what[64];
      snprintf(what, sizeof what, "manta, %.0f CPUs, %zu tasks", m.cpus,
               m.tasks);
      summary_line(what, &m, nq);
    }
  }
  if (rc == 0 && use_s) {
    rc = run_sequential(&c, &refs, &queries, &s);
    if (rc == 0 && !c.quiet) {
      summary_line("sequential, 1 thread", &s, nq);
    }
  }
  if (rc == 0 && use_m && use_s) {
    bool same = same_answer(&m, &s, nq, c.k);
    if (!c.quiet) {
      fprintf(stderr, "%s: speedup %.2fx (manta over sequential); %s\n", prog,
              s.seconds / m.seconds,
              same ? "both gave the same matches" : "THE MATCHES DIFFER");
    }
    if (!same) {
      fprintf(stderr, "%s: manta and sequential runs gave different matches\n",
              prog);
      rc = -1;
    }
  }
  if (rc == 0) {
    const run *r = use_m ? &m : &s;
    rc = nm_output_write(out, &refs.col, &queries.col, r->best, r->counts, c.k);
  }
  if ((c.output ? fclose(out) : fflush(out)) != 0 || rc != 0) {
    if (rc == 0) {
      fprintf(stderr, "%s: writing the matches failed\n", prog);
    }
    rc = -1;
  }
  if (json) {
    if (rc == 0) {
      read_load(load[1]);
      rc = write_json(json, &c, &refs, &queries, use_m ? &m : NULL,
                      use_s ? &s : NULL, (const double(*)[3])load);
    }
    if (fclose(json) != 0 && rc == 0) {
      fprintf(stderr, "%s: writing '%s' failed\n", prog, c.json);
      rc = -1;
    }
  }
  if (use_m) {
    free_run(&m);
  }
  if (use_s) {
    free_run(&s);
  }
  free_names(&refs);
  free_names(&queries);
  free(c.module);
  return rc == 0 ? 0 : 1;
}
