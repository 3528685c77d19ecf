/*
 * The Aggregator actor class (docs/db_actors.md): its constructor opens
 * PostgreSQL connections from a libpq connection string, its aggregate
 * method runs a query and returns the rows as values.
 */
#ifndef DBAGG_AGGREGATOR_H
#define DBAGG_AGGREGATOR_H

#include <manta.h>

#include <libpq-fe.h>

/* Registers the class "Aggregator" with the methods aggregate(table,
 * query), info() and backend_pids(). */
manta_err aggregator_register(void);

/* The SQL aggregate(table, query) runs: query with every "{table}"
 * replaced by the quoted table name; a NULL or empty query means
 * SELECT * FROM {table}. NULL and *error set if table is not a usable
 * name. The caller frees the string with free(). */
char *aggregator_sql(PGconn *conn, const char *table, const char *query,
                     manta_value **error);

/* Runs sql on conn: the rows (dbagg_rows) or an error value that names
 * PostgreSQL's SQLSTATE and message, or says the connection was lost. */
manta_value *aggregator_run(PGconn *conn, const char *sql);

/* Opens one connection; NULL and *error ("cannot connect to PostgreSQL:
 * ...") when it fails. application_name is set so the server's
 * pg_stat_activity shows whose connection it is. */
PGconn *aggregator_connect(const char *conninfo, manta_value **error);

#endif
