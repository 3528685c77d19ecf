/*
 * The database actors' failure cases and connection limits, checked
 * against the real server: bad SQL, a bad table, a bad argument, a wrong
 * password, a bad connection string, the server stopped and started again
 * (pg_cluster.sh stop/start), a query whose backend the server ends; and
 * the node's db_conn resource. Each case prints one line; a case that does
 * not give what it should says UNEXPECTED and fails the run.
 */
#include "db_aggregate.h"

#include "aggregator.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int unexpected;

/* Prints "label: <the error>" and checks its code and (if want is not
 * NULL) that its text, cause included, contains want. */
static void expect_error(const char *label, manta_value *v, manta_err code,
                         const char *want) {
  if (!v || manta_value_kind(v) != MANTA_KIND_ERROR) {
    printf("%s: UNEXPECTED: no error\n", label);
    unexpected = 1;
  } else {
    const char *text = dbagg_error_text(v);
    int ok = manta_error_code(v) == code && (!want || strstr(text, want));
    printf("%s: %s%s\n", label, ok ? "" : "UNEXPECTED: ", text);
    unexpected |= !ok;
  }
  manta_value_free(v);
}

static int64_t int_field(const manta_value *map, const char *key) {
  const manta_value *v;
  int64_t n = -1;
  if (manta_map_find(map, key, &v) == MANTA_OK) {
    manta_get_int(v, &n);
  }
  return n;
}

static manta_value *aggregate(manta_actor a, const char *table,
                              const char *query) {
  manta_value *args[2] = {manta_string(table, strlen(table)),
                          query ? manta_string(query, strlen(query))
                                : manta_null()};
  manta_value *v = dbagg_call(a, "aggregate", args, 2, 120000);
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  return v;
}

/* A call that must work: prints "label: N rows, reconnects R". */
static void expect_rows(const char *label, manta_actor a, int64_t reconnects) {
  manta_value *v = aggregate(a, "movies", "SELECT id FROM {table}");
  manta_value *info = dbagg_call(a, "info", NULL, 0, 60000);
  size_t n = 0;
  if (manta_value_kind(v) == MANTA_KIND_ERROR) {
    printf("%s: UNEXPECTED: %s\n", label, dbagg_error_text(v));
    unexpected = 1;
  } else {
    manta_len(v, &n);
    int64_t r = int_field(info, "reconnects");
    int ok = n > 0 && r == reconnects;
    printf("%s: %s%zu movies, reconnects %lld\n", label,
           ok ? "" : "UNEXPECTED: ", n, (long long)r);
    unexpected |= !ok;
  }
  manta_value_free(v);
  manta_value_free(info);
}

static manta_actor create(const char *cls, const char *conninfo, int64_t pool,
                          unsigned concurrency, double db_conn) {
  manta_value *args[2] = {manta_string(conninfo, strlen(conninfo)),
                          manta_int(pool)};
  manta_call_options *co = NULL;
  manta_call_options_new(&co);
  if (concurrency > 1) {
    manta_call_options_set_max_concurrency(co, concurrency);
  }
  if (db_conn > 0) {
    manta_call_options_set_resource(co, "db_conn", db_conn);
  }
  manta_actor a = {0};
  if (manta_actor_newv(&a, cls, args, 2, co) != MANTA_OK) { /* takes args */
    printf("creating a %s: UNEXPECTED: refused\n", cls);
    unexpected = 1;
  }
  manta_call_options_free(co);
  return a;
}

/* pg_cluster.sh stop|start DIR, from the variables pg_cluster.sh set. */
static int pg_ctl(const char *action) {
  const char *script = getenv("MANTA_PG_SCRIPT"), *dir = getenv("MANTA_PG_DIR");
  if (!script || !dir) {
    printf("server %s: UNEXPECTED: MANTA_PG_SCRIPT and MANTA_PG_DIR unset"
           " (run under pg_cluster.sh run)\n",
           action);
    unexpected = 1;
    return -1;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    execlp("bash", "bash", script, action, dir, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    printf("server %s: UNEXPECTED: pg_cluster.sh %s failed\n", action, action);
    unexpected = 1;
    return -1;
  }
  return 0;
}

/* Ends, from another connection, the backend running a statement that
 * contains marker, once it runs (at most ~20 s of looking). */
static int terminate_backend(const char *conninfo, const char *marker) {
  manta_value *error = NULL;
  PGconn *conn = aggregator_connect(conninfo, &error);
  if (!conn) {
    manta_value_free(error);
    return -1;
  }
  const char *params[1] = {marker};
  int done = 0;
  for (int i = 0; i < 400 && !done; i++) {
    PGresult *res = PQexecParams(
        conn,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
        " state = 'active' AND pid <> pg_backend_pid()"
        " AND position($1 IN query) > 0",
        1, NULL, params, NULL, NULL, 0);
    done = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
    PQclear(res);
    if (!done) {
      usleep(50 * 1000);
    }
  }
  PQfinish(conn);
  return done ? 0 : -1;
}

/* One row of every type, printed as a value: the same line from the C
 * and the Java class. */
static const char types_sql[] =
    "SELECT 7::int2 AS i2, 70000::int4 AS i4, 8000000000::int8 AS i8,"
    " 1.5::float4 AS f4, 2.25::float8 AS f8, 3.125::numeric AS num,"
    " 'text'::text AS t, '\\x00ff10'::bytea AS b, true AS yes, false AS no,"
    " NULL::int AS nothing, '2020-01-02 03:04:05+00'::timestamptz AS ts,"
    " '{\"a\": [1, 2.5, \"s\", null, true], \"b\": {\"c\": {}}}'::jsonb"
    " AS doc, '[3, \"x\"]'::json AS list FROM {table} LIMIT 1";

static void print_types(manta_actor a) {
  manta_value *v = aggregate(a, "movies", types_sql);
  if (manta_value_kind(v) == MANTA_KIND_ERROR) {
    printf("types: UNEXPECTED: %s\n", dbagg_error_text(v));
    unexpected = 1;
  } else {
    char *text = manta_value_repr(v);
    printf("types: %s\n", text);
    manta_free(text);
  }
  manta_value_free(v);
}

int dbagg_check_errors(const dbagg_opts *o) {
  const char *cls = o->cls;
  manta_actor a = create(cls, o->conninfo, 1, 1, 0);
  print_types(a);
  expect_error("bad SQL", aggregate(a, "movies", "SELEC id FROM {table}"),
               MANTA_ERR_INVALID, "SQLSTATE 42601");
  expect_error("unknown table", aggregate(a, "no_such_table", NULL),
               MANTA_ERR_INVALID, "SQLSTATE 42P01");
  manta_value *args[2] = {manta_int(42), manta_null()};
  expect_error("bad argument", dbagg_call(a, "aggregate", args, 2, 60000),
               MANTA_ERR_TYPE, NULL);
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  expect_rows("still serving", a, 0);

  if (o->app_conninfo) {
    char wrong[512];
    snprintf(wrong, sizeof wrong, "%s password=wrong-password",
             o->app_conninfo);
    manta_actor w = create(cls, wrong, 1, 1, 0);
    expect_error("wrong password", dbagg_call(w, "info", NULL, 0, 60000),
                 MANTA_ERR_ACTOR_DEAD, "password authentication failed");
    manta_actor_release(w);
  }
  manta_actor b = create(cls, "this is no connection string", 1, 1, 0);
  expect_error("bad connection string", dbagg_call(b, "info", NULL, 0, 60000),
               MANTA_ERR_ACTOR_DEAD, NULL);
  manta_actor_release(b);

  /* The server goes away between calls, and comes back. */
  if (pg_ctl("stop") == 0) {
    expect_error("server stopped", aggregate(a, "movies", NULL),
                 MANTA_ERR_TASK_FAILED, "database unreachable");
    if (pg_ctl("start") == 0) {
      expect_rows("server started again", a, 1);
    }
  }
  /* The server ends the backend in the middle of a query. */
  manta_value *q = manta_string("movies", 6);
  static const char sleeper[] = "SELECT pg_sleep(60) AS slept FROM {table} "
                                "LIMIT 1 /* dbagg-ended-mid-call */";
  manta_value *qargs[2] = {q, manta_string(sleeper, strlen(sleeper))};
  manta_ref ref;
  manta_actor_invokev(&ref, a, "aggregate", qargs, 2); /* takes qargs */
  if (terminate_backend(o->conninfo, "dbagg-ended-mid-call") != 0) {
    printf("server ended the query: UNEXPECTED: the query never ran\n");
    unexpected = 1;
  }
  manta_value *v = NULL;
  manta_get(ref, 120000, &v);
  manta_ref_release(ref);
  expect_error("server ended the query", v, MANTA_ERR_TASK_FAILED,
               "connection lost");
  expect_rows("next call", a, 2);
  manta_actor_release(a);
  printf("errors: %s\n", unexpected ? "UNEXPECTED answers above"
                                    : "every case answered as expected");
  return unexpected;
}

static int64_t aggregators_connected(const char *conninfo) {
  manta_value *error = NULL;
  PGconn *conn = aggregator_connect(conninfo, &error);
  int64_t n = -1;
  if (conn) {
    /* Excluding this connection, which has the same application_name. */
    PGresult *res = PQexec(conn, "SELECT count(*) FROM pg_stat_activity"
                                 " WHERE application_name = 'manta "
                                 "Aggregator' AND pid <> pg_backend_pid()");
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
      n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
  }
  manta_value_free(error);
  PQfinish(conn);
  return n;
}

int dbagg_check_pool(const dbagg_opts *o) {
  const char *cls = o->cls;
  /* One actor, two slots, a connection per slot, both db_conn units. */
  manta_actor a = create(cls, o->conninfo, 2, 2, 2);
  manta_ref refs[2];
  char tag[32];
  snprintf(tag, sizeof tag, "pool%ld", (long)getpid());
  for (int i = 0; i < 2; i++) {
    char *sql = dbagg_with_rendezvous("SELECT count(*) AS n FROM {table}", tag,
                                      o->rendezvous_s);
    manta_actor_invoke(&refs[i], a, "aggregate", 2, manta_str("movies"),
                       manta_str(sql));
    free(sql);
  }
  manta_value *out[2];
  int ok = manta_get_many(refs, 2, 120000, out) == MANTA_OK;
  printf("pool: one actor, max_concurrency 2, 2 connections: %s\n",
         ok ? "two queries ran in the server at once"
            : dbagg_error_text(manta_value_kind(out[0]) == MANTA_KIND_ERROR
                                   ? out[0]
                                   : out[1]));
  unexpected |= !ok;
  for (int i = 0; i < 2; i++) {
    manta_value_free(out[i]);
    manta_ref_release(refs[i]);
  }
  double total = 0, avail = -1;
  manta_resource_get("db_conn", &total, &avail);
  printf("pool: db_conn %g of %g free\n", avail, total);
  unexpected |= avail != 0;

  /* A second actor asking for one more connection waits for one. */
  manta_actor b = create(cls, o->conninfo, 1, 1, 1);
  manta_ref pending;
  manta_actor_call(b, "info", NULL, 0, &pending);
  manta_ref ready[1], not_ready[1];
  size_t nr = 0, nn = 0;
  manta_wait(&pending, 1, 1, 500, ready, &nr, not_ready, &nn);
  int64_t connected = aggregators_connected(o->conninfo);
  printf("pool: a second actor asking for 1 db_conn %s (%lld aggregator"
         " connections open)\n",
         nr == 0 ? "waits" : "UNEXPECTED: ran", (long long)connected);
  unexpected |= nr != 0 || connected != 2;
  manta_actor_kill(a);
  manta_actor_release(a);
  manta_value *v = NULL;
  manta_get(pending, 60000, &v);
  ok = manta_value_kind(v) == MANTA_KIND_MAP;
  printf("pool: %s\n", ok ? "once the first actor was killed it connected"
                          : dbagg_error_text(v));
  unexpected |= !ok;
  manta_value_free(v);
  manta_ref_release(pending);

  /* More than the node has at all: refused. */
  manta_actor c = create(cls, o->conninfo, 3, 3, 3);
  expect_error("pool: an actor asking for 3 db_conn",
               dbagg_call(c, "info", NULL, 0, 60000), MANTA_ERR_ACTOR_DEAD,
               "more resources than this node has");
  manta_actor_release(c);
  manta_actor_release(b);
  printf("pool: %s\n", unexpected ? "UNEXPECTED answers above"
                                  : "db_conn capped the connections");
  return unexpected;
}
