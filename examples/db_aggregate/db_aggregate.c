/*
 * The seed's database aggregation, on PostgreSQL (docs/db_actors.md):
 * loads a sample_mflix-like data set, runs two aggregations (movies and
 * comments) one after the other on one connection without manta, then at
 * once in two Aggregator actors, each with its own connection, and prints
 * both times, the row counts and which was faster.
 *
 *   pg_cluster.sh run -- db_aggregate [--scale F] [--seed N]
 *       [--workload quick|heavy] [--repeat N] [--class NAME] [--java
 * LIBMANTA_JNI]
 *       [--rendezvous] [--one-actor] [--no-load | --load-only] [--errors]
 *       [--pool] [--remote]
 *
 * The connection string is --conninfo or MANTA_PG_CONNINFO (which
 * pg_cluster.sh sets). --errors and --pool run the checks of
 * db_aggregate_checks.c instead. --remote leaves the class to the cluster
 * (MANTA_ADDRESS): this process offers neither it nor db_conn, so the
 * actors live on a node that does.
 */
#include "db_aggregate.h"

#include "aggregator.h"
#include "mflix_data.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPEAT_MAX 99

typedef struct aggregation {
  const char *table, *query;
} aggregation;

/* The seed's pair: every movie and every comment, as documents (44,562
 * rows at the default size); quick for the server, so the cost is moving
 * and converting rows. */
static const aggregation quick[2] = {
    {"movies", "SELECT id, title, year, runtime, rated, imdb_rating, genres,"
               " awards, poster, series FROM {table}"},
    {"comments", "SELECT id, movie_id, name, email, text, date FROM {table}"}};

/* Heavier: the server works, few rows come back. Comments per movie
 * (GROUP BY over the comments) and comments per year (a join). */
static const aggregation heavy[2] = {
    {"comments",
     "SELECT movie_id, count(*) AS comments, count(DISTINCT name) AS people,"
     " avg(length(text)) AS avg_length, max(date) AS last FROM {table}"
     " GROUP BY movie_id ORDER BY comments DESC, movie_id LIMIT 100"},
    {"comments",
     "SELECT m.year, count(*) AS comments, count(DISTINCT c.email) AS people,"
     " avg(m.imdb_rating) AS rating, sum(length(c.text)) AS text_bytes"
     " FROM movies m JOIN {table} c ON c.movie_id = m.id"
     " GROUP BY m.year ORDER BY m.year"}};

double dbagg_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

manta_value *dbagg_call(manta_actor actor, const char *method,
                        manta_value **args, size_t nargs, int64_t timeout_ms) {
  manta_ref ref;
  manta_value *out = NULL;
  manta_err err = manta_actor_call(
      actor, method, (const manta_value *const *)args, nargs, &ref);
  if (err != MANTA_OK) {
    return manta_error(err, "cannot call %s", method);
  }
  manta_get(ref, timeout_ms, &out);
  manta_ref_release(ref);
  return out;
}

const char *dbagg_error_text(const manta_value *err) {
  static char text[1024];
  int n =
      snprintf(text, sizeof text, "%s: %s",
               manta_errname(manta_error_code(err)), manta_error_message(err));
  const manta_value *cause = manta_error_cause(err);
  if (cause && n > 0 && (size_t)n < sizeof text) {
    snprintf(text + n, sizeof text - (size_t)n, " (cause: %s: %s)",
             manta_errname(manta_error_code(cause)),
             manta_error_message(cause));
  }
  return text;
}

static size_t rows_of(const manta_value *v) {
  size_t n = 0;
  manta_len(v, &n);
  return n;
}

static int is_error(const manta_value *v) {
  return !v || manta_value_kind(v) == MANTA_KIND_ERROR;
}

/* The driver's own connection; NULL after saying why. */
static PGconn *connect_or_say(const dbagg_opts *o) {
  manta_value *error = NULL;
  PGconn *conn = aggregator_connect(o->conninfo, &error);
  if (!conn) {
    fprintf(stderr, "db_aggregate: %s\n", dbagg_error_text(error));
    manta_value_free(error);
  }
  return conn;
}

/* The aggregations on one connection, one after the other, no manta. */
static int run_sequential(const dbagg_opts *o, const aggregation *aggs,
                          double *seconds, size_t rows[2]) {
  PGconn *conn = connect_or_say(o);
  if (!conn) {
    return 1;
  }
  double t0 = dbagg_now();
  int failed = 0;
  manta_value *error = NULL;
  for (int i = 0; i < 2; i++) {
    char *sql = aggregator_sql(conn, aggs[i].table, aggs[i].query, &error);
    manta_value *v = sql ? aggregator_run(conn, sql) : error;
    free(sql);
    if (is_error(v)) {
      fprintf(stderr, "db_aggregate: sequential %s: %s\n", aggs[i].table,
              dbagg_error_text(v));
      failed = 1;
    }
    rows[i] = rows_of(v);
    manta_value_free(v);
  }
  *seconds = dbagg_now() - t0;
  PQfinish(conn);
  return failed;
}

char *dbagg_with_rendezvous(const char *query, const char *tag, double s) {
  const char *q = query && query[0] ? query : "SELECT * FROM {table}";
  size_t len = strlen(q) + 256;
  char *sql = malloc(len);
  if (sql) {
    snprintf(sql, len,
             "WITH dbagg_r AS MATERIALIZED (SELECT dbagg_rendezvous('%s', 2, "
             "%g) AS peers) SELECT q.*, dbagg_r.peers FROM dbagg_r, (%s) q",
             tag, s, q);
  }
  return sql;
}

/* The aggregations at once, each in its own actor (one actor for both
 * with --one-actor). */
static int run_parallel(const dbagg_opts *o, const aggregation *aggs,
                        double *seconds, double *setup, size_t rows[2],
                        int64_t *peers) {
  double t0 = dbagg_now();
  manta_actor actors[2];
  int nactors = o->one_actor ? 1 : 2;
  for (int i = 0; i < nactors; i++) {
    if (manta_actor_new(&actors[i], o->cls, 1, manta_str(o->conninfo)) !=
        MANTA_OK) {
      fprintf(stderr, "db_aggregate: cannot create an actor of class %s\n",
              o->cls);
      return 1;
    }
  }
  /* Each actor's constructor connects; info() returns once it has. */
  int failed = 0;
  for (int i = 0; i < nactors; i++) {
    manta_value *v = dbagg_call(actors[i], "info", NULL, 0, 60000);
    if (is_error(v)) {
      fprintf(stderr, "db_aggregate: %s actor: %s\n", o->cls,
              dbagg_error_text(v));
      failed = 1;
    }
    manta_value_free(v);
  }
  *setup = dbagg_now() - t0;
  manta_ref refs[2];
  static int round; /* a tag per round: a session never reuses one */
  char tag[48];
  snprintf(tag, sizeof tag, "db%ld.%d", (long)getpid(), round++);
  for (int i = 0; i < 2 && !failed; i++) {
    char *sql = o->rendezvous
                    ? dbagg_with_rendezvous(aggs[i].query, tag, o->rendezvous_s)
                    : NULL;
    manta_actor_invoke(&refs[i], actors[o->one_actor ? 0 : i], "aggregate", 2,
                       manta_str(aggs[i].table),
                       manta_str(sql ? sql : aggs[i].query));
    free(sql);
  }
  if (!failed) {
    manta_value *out[2];
    manta_get_many(refs, 2, MANTA_FOREVER, out);
    *seconds = dbagg_now() - t0;
    for (int i = 0; i < 2; i++) {
      if (is_error(out[i])) {
        fprintf(stderr, "db_aggregate: parallel %s: %s\n", aggs[i].table,
                dbagg_error_text(out[i]));
        failed = 1;
      } else if (o->rendezvous && rows_of(out[i]) > 0) {
        const manta_value *row, *seen;
        manta_list_at(out[i], 0, &row);
        if (manta_map_find(row, "peers", &seen) == MANTA_OK) {
          manta_get_int(seen, &peers[i]);
        }
      }
      rows[i] = rows_of(out[i]);
      manta_value_free(out[i]);
      manta_ref_release(refs[i]);
    }
  }
  for (int i = 0; i < nactors; i++) {
    manta_actor_release(actors[i]);
  }
  return failed;
}

static void usage(FILE *to) {
  fprintf(to,
          "usage: db_aggregate [--conninfo S] [--scale F] [--seed N]"
          " [--workload quick|heavy]\n"
          "                    [--repeat N]"
          "                    [--class NAME] [--java LIBMANTA_JNI]"
          " [--rendezvous] [--one-actor]\n"
          "                    [--no-load | --load-only] [--errors] [--pool]"
          " [--remote]\n"
          "Run it under examples/db_aggregate/pg_cluster.sh run -- ..., which"
          " sets MANTA_PG_CONNINFO.\n");
}

static int parse(int argc, char **argv, dbagg_opts *o, int *mode) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--conninfo") && next) {
      o->conninfo = argv[++i];
    } else if (!strcmp(a, "--scale") && next) {
      char *end;
      o->scale = strtod(argv[++i], &end);
      if (*end || !(o->scale > 0 && o->scale <= 1000)) {
        fprintf(stderr,
                "db_aggregate: --scale wants a number in (0, 1000],"
                " not '%s'\n",
                argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--seed") && next) {
      o->seed = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(a, "--workload") && next) {
      o->workload = argv[++i];
      if (strcmp(o->workload, "quick") && strcmp(o->workload, "heavy")) {
        fprintf(stderr,
                "db_aggregate: --workload is quick or heavy, not"
                " '%s'\n",
                o->workload);
        return 2;
      }
    } else if (!strcmp(a, "--repeat") && next) {
      o->repeat = atoi(argv[++i]);
      if (o->repeat < 1 || o->repeat > REPEAT_MAX) {
        fprintf(stderr, "db_aggregate: --repeat wants 1 to %d\n", REPEAT_MAX);
        return 2;
      }
    } else if (!strcmp(a, "--class") && next) {
      o->cls = argv[++i];
    } else if (!strcmp(a, "--java") && next) {
      o->java = argv[++i];
    } else if (!strcmp(a, "--remote")) {
      o->remote = 1;
    } else if (!strcmp(a, "--rendezvous")) {
      o->rendezvous = 1;
    } else if (!strcmp(a, "--one-actor")) {
      o->one_actor = 1;
      o->rendezvous_s = 3; /* the rendezvous is expected to fail here */
    } else if (!strcmp(a, "--load-only")) {
      *mode = 3;
    } else if (!strcmp(a, "--no-load")) {
      o->load = 0;
    } else if (!strcmp(a, "--errors")) {
      *mode = 1;
    } else if (!strcmp(a, "--pool")) {
      *mode = 2;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "db_aggregate: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (!o->conninfo) {
    fprintf(stderr, "db_aggregate: no database: give --conninfo or run under"
                    " examples/db_aggregate/pg_cluster.sh run -- ...\n");
    return 2;
  }
  return 0;
}

static int load(const dbagg_opts *o, mflix_size size) {
  PGconn *conn = connect_or_say(o);
  if (!conn) {
    return 1;
  }
  char err[512] = "";
  double t0 = dbagg_now();
  int rc = mflix_load(conn, size, o->seed, err, sizeof err);
  PQfinish(conn);
  if (rc) {
    fprintf(stderr, "db_aggregate: loading the data failed: %s\n", err);
    return 1;
  }
  printf("db_aggregate: loaded %lld movies and %lld comments (seed %llu,"
         " scale %g) in %.2f s\n",
         (long long)size.movies, (long long)size.comments,
         (unsigned long long)o->seed, o->scale, dbagg_now() - t0);
  return 0;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One untimed sequential pass first (the first reads after loading set
 * the rows' hint bits and write pages: not what is measured), then
 * --repeat rounds of sequential and parallel, alternating; medians. */
static int compare(const dbagg_opts *o) {
  const aggregation *aggs = strcmp(o->workload, "heavy") ? quick : heavy;
  double seq_s[REPEAT_MAX], par_s[REPEAT_MAX], setup_s[REPEAT_MAX], dummy;
  size_t seq_rows[2] = {0}, par_rows[2] = {0};
  int64_t peers[2] = {0, 0};
  if (run_sequential(o, aggs, &dummy, seq_rows)) {
    return 1;
  }
  for (int r = 0; r < o->repeat; r++) {
    if (run_sequential(o, aggs, &seq_s[r], seq_rows) ||
        run_parallel(o, aggs, &par_s[r], &setup_s[r], par_rows, peers)) {
      return 1;
    }
  }
  qsort(seq_s, (size_t)o->repeat, sizeof *seq_s, by_value);
  qsort(par_s, (size_t)o->repeat, sizeof *par_s, by_value);
  qsort(setup_s, (size_t)o->repeat, sizeof *setup_s, by_value);
  double seq = seq_s[o->repeat / 2], par = par_s[o->repeat / 2];
  printf("sequential (one connection, no actors): %s %zu rows, %s %zu rows:"
         " %zu rows in %.3f s\n",
         aggs[0].table, seq_rows[0], aggs[1].table, seq_rows[1],
         seq_rows[0] + seq_rows[1], seq);
  printf("parallel (%d %s actor%s, a connection each): %s %zu rows, %s %zu"
         " rows: %zu rows in %.3f s (%.3f s of it creating the actors and"
         " connecting)\n",
         o->one_actor ? 1 : 2, o->cls, o->one_actor ? "" : "s", aggs[0].table,
         par_rows[0], aggs[1].table, par_rows[1], par_rows[0] + par_rows[1],
         par, setup_s[o->repeat / 2]);
  if (o->repeat > 1) {
    printf("(medians of %d rounds, after one warm-up pass)\n", o->repeat);
  }
  if (o->rendezvous) {
    printf("overlap: both aggregations were running in the server at once"
           " (dbagg_rendezvous saw %lld and %lld of 2)\n",
           (long long)peers[0], (long long)peers[1]);
  }
  if (seq_rows[0] != par_rows[0] || seq_rows[1] != par_rows[1]) {
    fprintf(stderr, "db_aggregate: the two runs returned different row"
                    " counts\n");
    return 1;
  }
  printf("faster: %s, by %.2fx\n", par < seq ? "parallel" : "sequential",
         par < seq ? seq / par : par / seq);
  return 0;
}

int main(int argc, char **argv) {
  dbagg_opts o = {.conninfo = getenv("MANTA_PG_CONNINFO"),
                  .app_conninfo = getenv("MANTA_PG_APP_CONNINFO"),
                  .cls = "Aggregator",
                  .workload = "quick",
                  .scale = 1,
                  .seed = 1,
                  .load = 1,
                  .repeat = 3,
                  .rendezvous_s = 60,
                  .db_conn = 2};
  int mode = 0;
  int rc = parse(argc, argv, &o, &mode);
  if (rc) {
    return rc;
  }
  manta_options *mo = NULL;
  manta_options_new(&mo);
  if (!o.remote) {
    manta_options_set_resource(mo, "db_conn", o.db_conn);
  }
  if (manta_init(mo) != MANTA_OK) {
    manta_options_free(mo);
    return 1;
  }
  manta_options_free(mo);
  if (!o.remote) {
    aggregator_register();
  }
  if (o.java && manta_module_load(o.java) != MANTA_OK) {
    fprintf(stderr, "db_aggregate: cannot load the Java binding %s\n", o.java);
    manta_shutdown();
    return 1;
  }
  if ((mode == 0 && o.load) || mode == 3) {
    rc = load(&o, mflix_scaled(o.scale));
  }
  if (!rc && mode != 3) {
    rc = mode == 1   ? dbagg_check_errors(&o)
         : mode == 2 ? dbagg_check_pool(&o)
                     : compare(&o);
  }
  manta_shutdown();
  return rc;
}
