/*
 * The Aggregator actor class over libpq. Each actor holds its own
 * connections, opened by its constructor: a connection per method slot, so
 * an actor created with max_concurrency N and a pool of N runs N queries
 * at once, each on its own server backend. A connection the server closed
 * (a restart, an administrator, a crash) is reopened by the next call.
 */
#include "aggregator.h"

#include "dbagg_values.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many connections per actor: a pool size beyond it is a
 * mistake, not a plan (the server's max_connections is in the tens). */
#define POOL_MAX 64

typedef struct aggregator {
  PGconn **conns;
  int *busy;
  int n;
  int64_t calls, reconnects;
  pthread_mutex_t mu;
  pthread_cond_t freed;
} aggregator;

/* libpq's messages end in a newline and may span lines: one line here. */
static void one_line(char *msg) {
  for (char *p = msg; *p; p++) {
    if (*p == '\n' || *p == '\t') {
      *p = ' ';
    }
  }
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == ' ') {
    msg[--n] = '\0';
  }
}

static manta_value *conn_error(manta_err code, const char *what, PGconn *conn,
                               const char *then) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s", conn ? PQerrorMessage(conn) : "no memory");
  one_line(msg);
  return manta_error(code, "%s: %s%s", what, msg, then);
}

/* The server's notices (and a goodbye arriving while idle) would go to
 * stderr by default; what matters reaches the caller as an error value. */
static void quiet(void *arg, const char *message) {
  (void)arg, (void)message;
}

PGconn *aggregator_connect(const char *conninfo, manta_value **error) {
  /* Parsed first: libpq would take a string without '=' for a database
   * name and try the default server instead of saying it is malformed. */
  char *why = NULL;
  PQconninfoOption *parsed = PQconninfoParse(conninfo, &why);
  if (!parsed) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", why ? why : "no memory");
    one_line(msg);
    PQfreemem(why);
    *error = manta_error(MANTA_ERR_INVALID, "bad connection string: %s", msg);
    return NULL;
  }
  PQconninfoFree(parsed);
  /* expand_dbname: the string is a full connection string; the keywords
   * after it add to what it says (a string naming its own
   * application_name still gets this one). */
  const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
  const char *vals[] = {conninfo, "manta Aggregator", "10", NULL};
  PGconn *conn = PQconnectdbParams(keys, vals, 1);
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    *error =
        conn_error(MANTA_ERR_INVALID, "cannot connect to PostgreSQL", conn, "");
    PQfinish(conn);
    return NULL;
  }
  PQsetNoticeProcessor(conn, quiet, NULL);
  return conn;
}

char *aggregator_sql(PGconn *conn, const char *table, const char *query,
                     manta_value **error) {
  if (!table || !table[0]) {
    *error = manta_error(MANTA_ERR_INVALID, "aggregate: the table name is "
                                            "empty");
    return NULL;
  }
  char *ident = PQescapeIdentifier(conn, table, strlen(table));
  if (!ident) {
    *error =
        conn_error(MANTA_ERR_INVALID, "aggregate: bad table name", conn, "");
    return NULL;
  }
  if (!query || !query[0]) {
    query = "SELECT * FROM {table}";
  }
  static const char mark[] = "{table}";
  size_t marks = 0;
  for (const char *p = strstr(query, mark); p; p = strstr(p + 1, mark)) {
    marks++;
  }
  size_t len = strlen(query) + marks * strlen(ident) + 1;
  char *sql = malloc(len), *out = sql;
  if (!sql) {
    PQfreemem(ident);
    *error = manta_error(MANTA_ERR_NOMEM, "aggregate: no memory for the SQL");
    return NULL;
  }
  for (const char *p = query; *p;) {
    if (strncmp(p, mark, sizeof mark - 1) == 0) {
      out += sprintf(out, "%s", ident);
      p += sizeof mark - 1;
    } else {
      *out++ = *p++;
    }
  }
  *out = '\0';
  PQfreemem(ident);
  return sql;
}

manta_value *aggregator_run(PGconn *conn, const char *sql) {
  PGresult *res = PQexec(conn, sql);
  ExecStatusType st = PQresultStatus(res);
  manta_value *out;
  if (st == PGRES_TUPLES_OK) {
    out = dbagg_rows(res);
  } else if (st == PGRES_COMMAND_OK) {
    out = manta_list();
  } else if (PQstatus(conn) != CONNECTION_OK) {
    /* The server went away (or ended this backend) during the call. */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char what[64];
    snprintf(what, sizeof what, "connection lost during the query%s%s",
             state ? " (SQLSTATE " : "", state ? state : "");
    if (state) {
      strcat(what, ")");
    }
    out = conn_error(MANTA_ERR_TASK_FAILED, what, conn,
                     "; the next call reconnects");
  } else {
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    out = manta_error(MANTA_ERR_INVALID, "SQLSTATE %s: %s",
                      state ? state : "?????",
                      primary ? primary : PQresultErrorMessage(res));
  }
  PQclear(res);
  return out;
}

static void aggregator_free(void *state, void *class_data) {
  (void)class_data;
  aggregator *a = state;
  if (!a) {
    return;
  }
  for (int i = 0; i < a->n; i++) {
    PQfinish(a->conns[i]);
  }
  free(a->conns);
  free(a->busy);
  pthread_mutex_destroy(&a->mu);
  pthread_cond_destroy(&a->freed);
  free(a);
}

/* Aggregator(conninfo[, pool]): pool connections (default 1), all opened
 * here, so a wrong password or an unreachable server fails the creation. */
static void *aggregator_new(const manta_value *const *args, size_t nargs,
                            void *class_data, manta_value **error) {
  (void)class_data;
  const char *conninfo;
  size_t len;
  int64_t pool = 1;
  if (nargs < 1 || nargs > 2 ||
      manta_get_string(args[0], &conninfo, &len) != MANTA_OK) {
    *error = manta_error(MANTA_ERR_TYPE, "Aggregator(conninfo[, pool]): a "
                                         "connection string, then an "
                                         "optional pool size");
    return NULL;
  }
  if (nargs == 2 && (manta_get_int(args[1], &pool) != MANTA_OK || pool < 1 ||
                     pool > POOL_MAX)) {
    *error = manta_error(MANTA_ERR_INVALID,
                         "Aggregator: the pool size must be an int from 1 to "
                         "%d",
                         POOL_MAX);
    return NULL;
  }
  aggregator *a = calloc(1, sizeof *a);
  if (a) {
    a->conns = calloc((size_t)pool, sizeof *a->conns);
    a->busy = calloc((size_t)pool, sizeof *a->busy);
  }
  if (!a || !a->conns || !a->busy) {
    if (a) {
      free(a->conns);
      free(a->busy);
    }
    free(a);
    *error = manta_error(MANTA_ERR_NOMEM, "no memory for an Aggregator");
    return NULL;
  }
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->freed, NULL);
  for (; a->n < pool; a->n++) {
    a->conns[a->n] = aggregator_connect(conninfo, error);
    if (!a->conns[a->n]) {
      aggregator_free(a, NULL);
      return NULL;
    }
  }
  return a;
}

/* A free connection of the pool; waits while all are taken (more calls at
 * once than the pool holds: max_concurrency above the pool size). */
static int take_slot(aggregator *a) {
  pthread_mutex_lock(&a->mu);
  for (;;) {
    for (int i = 0; i < a->n; i++) {
      if (!a->busy[i]) {
        a->busy[i] = 1;
        a->calls++;
        pthread_mutex_unlock(&a->mu);
        return i;
      }
    }
    pthread_cond_wait(&a->freed, &a->mu);
  }
}

static void give_slot(aggregator *a, int i) {
  pthread_mutex_lock(&a->mu);
  a->busy[i] = 0;
  pthread_cond_signal(&a->freed);
  pthread_mutex_unlock(&a->mu);
}

/* The connection of slot i, reopened if the server closed it: NULL, or the
 * error saying the server cannot be reached. */
static manta_value *ensure_live(aggregator *a, int i) {
  PGconn *conn = a->conns[i];
  /* A server that closed an idle connection (a restart, an administrator)
   * left its goodbye and the end of the stream in the socket: reading them
   * now (the message, then the end: two reads) marks the connection bad,
   * so it is reopened before the query instead of failing it. */
  for (int reads = 0; reads < 2 && PQstatus(conn) == CONNECTION_OK; reads++) {
    PQconsumeInput(conn);
  }
  if (PQstatus(conn) == CONNECTION_OK) {
    return NULL;
  }
  PQreset(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    return conn_error(MANTA_ERR_TASK_FAILED, "database unreachable", conn,
                      "; the next call tries to reconnect");
  }
  pthread_mutex_lock(&a->mu);
  a->reconnects++;
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

/* aggregate(table, query): the rows of the query as a list of maps. */
static manta_value *aggregate(void *state, const manta_value *const *args,
                              size_t nargs, void *method_data) {
  (void)nargs, (void)method_data;
  aggregator *a = state;
  const char *table, *query = NULL;
  size_t len;
  if (manta_get_string(args[0], &table, &len) != MANTA_OK ||
      (manta_value_kind(args[1]) != MANTA_KIND_NULL &&
       manta_get_string(args[1], &query, &len) != MANTA_OK)) {
    return manta_error(MANTA_ERR_TYPE, "aggregate(table, query): a table "
                                       "name, then SQL text or null");
  }
  int slot = take_slot(a);
  manta_value *out = ensure_live(a, slot);
  if (!out) {
    char *sql = aggregator_sql(a->conns[slot], table, query, &out);
    if (sql) {
      out = aggregator_run(a->conns[slot], sql);
      free(sql);
    }
  }
  give_slot(a, slot);
  return out;
}

/* info(): {"language", "connections", "calls", "reconnects",
 * "backend_pids"} (a pid is 0 while its connection is down, -1 while a
 * call uses it). */
static manta_value *info(void *state, const manta_value *const *args,
                         size_t nargs, void *method_data) {
  (void)args, (void)nargs, (void)method_data;
  aggregator *a = state;
  manta_value *map = manta_map(), *pids = manta_list();
  pthread_mutex_lock(&a->mu);
  manta_map_put(map, "language", manta_string("C", 1));
  manta_map_put(map, "connections", manta_int(a->n));
  manta_map_put(map, "calls", manta_int(a->calls));
  manta_map_put(map, "reconnects", manta_int(a->reconnects));
  for (int i = 0; i < a->n; i++) {
    /* A free slot cannot be taken (nor its connection reset) while the
     * lock is held; a busy one may be reconnecting right now. */
    manta_list_push(pids,
                    manta_int(a->busy[i] ? -1 : PQbackendPID(a->conns[i])));
  }
  pthread_mutex_unlock(&a->mu);
  manta_map_put(map, "backend_pids", pids);
  return map;
}

manta_err aggregator_register(void) {
  manta_err err =
      manta_register_class("Aggregator", aggregator_new, aggregator_free, NULL);
  if (!err) {
    err = manta_register_method("Aggregator", "aggregate", aggregate, 2, NULL);
  }
  if (!err) {
    err = manta_register_method("Aggregator", "info", info, 0, NULL);
  }
  return err;
}
