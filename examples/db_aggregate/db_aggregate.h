/*
 * What the database actors' driver (db_aggregate.c) and its checks
 * (db_aggregate_checks.c) share.
 */
#ifndef DB_AGGREGATE_H
#define DB_AGGREGATE_H

#include <manta.h>

#include <stdint.h>

typedef struct dbagg_opts {
  const char *conninfo;     /* --conninfo, else MANTA_PG_CONNINFO */
  const char *app_conninfo; /* MANTA_PG_APP_CONNINFO: the password role */
  const char *cls;          /* --class: the actor class (Aggregator) */
  const char *java;         /* --java: libmanta_jni to load first */
  const char *workload;     /* --workload: quick (the seed's) or heavy */
  double scale;             /* --scale */
  uint64_t seed;            /* --seed */
  int load;                 /* 0 with --no-load */
  int repeat;               /* --repeat: rounds measured (medians) */
  int rendezvous;           /* --rendezvous: prove the overlap */
  int one_actor;            /* --one-actor: both calls on one actor */
  double rendezvous_s;      /* how long the rendezvous waits */
  int db_conn;              /* the node's db_conn resource */
  int remote;               /* --remote: actors on the cluster's nodes */
} dbagg_opts;

double dbagg_now(void);

/* Calls method on actor and waits (at most timeout_ms): the value or the
 * error value; never NULL. */
manta_value *dbagg_call(manta_actor actor, const char *method,
                        manta_value **args, size_t nargs, int64_t timeout_ms);

/* "MANTA_ERR_X: message" of an error value, with its cause's, for
 * printing; a static buffer. */
const char *dbagg_error_text(const manta_value *err);

/* query (NULL: the whole table) made to wait first in the server until
 * two queries with this tag run there at once (dbagg_rendezvous,
 * mflix_data.c), adding the count it saw as the column "peers": a result
 * at all proves they overlapped. A tag is used once. malloc'ed. */
char *dbagg_with_rendezvous(const char *query, const char *tag, double s);

/* The error-case checks (--errors) and the db_conn checks (--pool):
 * 0 when every case gave what it should, 1 otherwise. */
int dbagg_check_errors(const dbagg_opts *o);
int dbagg_check_pool(const dbagg_opts *o);

#endif
