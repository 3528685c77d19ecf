/*
 * A generated data set shaped like MongoDB's sample_mflix: a movies table
 * and a comments table, the same from the same seed on every machine.
 */
#ifndef DBAGG_MFLIX_DATA_H
#define DBAGG_MFLIX_DATA_H

#include <libpq-fe.h>

#include <stdint.h>

/* The default sizes: 21,349 movies and 23,213 comments, 44,562 rows. */
#define MFLIX_MOVIES 21349
#define MFLIX_COMMENTS 23213

typedef struct mflix_size {
  int64_t movies, comments;
} mflix_size;

/* The sizes at a scale (1: the defaults; 10: ten times as many). */
mflix_size mflix_scaled(double scale);

/* Drops and creates movies and comments, fills them from seed, indexes
 * and analyzes them, and (re)creates dbagg_rendezvous (docs/db_actors.md).
 * 0, or -1 with the reason in err. */
int mflix_load(PGconn *conn, mflix_size size, uint64_t seed, char *err,
               size_t errlen);

#endif
