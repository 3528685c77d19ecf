/*
 * PostgreSQL results as manta values: a result's rows become a list of maps
 * (column name -> value) typed by each column's type, and json/jsonb text
 * becomes nested maps and lists (Jansson parses it).
 */
#ifndef DBAGG_VALUES_H
#define DBAGG_VALUES_H

#include <manta.h>

#include <libpq-fe.h>

/* The rows of a PGRES_TUPLES_OK result. Column types: int2/int4/int8/oid ->
 * int; float4/float8/numeric -> double; bool -> bool; bytea -> bytes;
 * json/jsonb -> nested values; SQL NULL -> null; anything else -> its text
 * (timestamps, text, arrays). An error value if memory or a json column
 * fails (naming the row and column). */
manta_value *dbagg_rows(const PGresult *res);

/* One JSON document as a value (objects -> maps, arrays -> lists, integers
 * -> int, reals -> double); an error value naming where it stops parsing. */
manta_value *dbagg_json(const char *text);

#endif
