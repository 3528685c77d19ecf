/*
 * The sample_mflix-like data: rows drawn from a xorshift generator and sent
 * with COPY, so the data set depends on the seed only, not on the server's
 * random() or version. Comments pile up on a few movies (the square of a
 * uniform draw), as real comments do, which gives GROUP BY movie_id
 * uneven groups.
 */
#include "mflix_data.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const words[] = {
    "night",  "river", "city",   "love",   "war",    "last",  "dark",
    "summer", "king",  "ghost",  "road",   "secret", "blue",  "house",
    "star",   "storm", "empire", "girl",   "man",    "dream", "fire",
    "island", "north", "silent", "golden", "broken", "wild",  "red",
    "lost",   "time",  "garden", "winter", "heart",  "stone", "sea",
    "shadow", "light", "long",   "glass",  "iron",   "small", "great"};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const genres[] = {
    "Drama",  "Comedy",  "Romance",   "Crime",       "Thriller", "Action",
    "Horror", "Western", "Adventure", "Documentary", "Animation"};
#define NGENRES (sizeof genres / sizeof genres[0])

static const char *const ratings[] = {"G", "PG", "PG-13", "R", "NOT RATED"};
static const char *const first_names[] = {
    "Ned",     "Cersei", "Jaime",     "Sansa", "Arya",   "Tyrion",
    "Brienne", "Davos",  "Missandei", "Theon", "Gendry", "Olenna"};

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) { /* xorshift64* */
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(rng *r, uint64_t n) {
  return next(r) % n;
}
static double unit(rng *r) {
  return (double)(next(r) >> 11) / 9007199254740992.0;
}

mflix_size mflix_scaled(double scale) {
  mflix_size s = {(int64_t)llround(MFLIX_MOVIES * scale),
                  (int64_t)llround(MFLIX_COMMENTS * scale)};
  if (s.movies < 1) {
    s.movies = 1;
  }
  return s;
}

/* A growing buffer of COPY text, sent in pieces of about 256 KiB. */
typedef struct copybuf {
  PGconn *conn;
  char buf[300 * 1024];
  size_t len;
  int failed;
} copybuf;

static void flush(copybuf *b) {
  if (b->len && !b->failed &&
      PQputCopyData(b->conn, b->buf, (int)b->len) != 1) {
    b->failed = 1;
  }
  b->len = 0;
}

static void put(copybuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(copybuf *b, const char *fmt, ...) {
  if (b->len > 256 * 1024) {
    flush(b);
  }
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
  va_end(ap);
  if (n > 0) {
    b->len += (size_t)n;
  }
}

static void put_words(copybuf *b, rng *r, int n) {
  for (int i = 0; i < n; i++) {
    put(b, "%s%s", i ? " " : "", words[below(r, NWORDS)]);
  }
}

static void movie_row(copybuf *b, rng *r, int64_t id) {
  put(b, "%" PRId64 "\t", id);
  put_words(b, r, 1 + (int)below(r, 4)); /* title */
  int year = 1915 + (int)below(r, 102);
  put(b, "\t%d\t", year);
  if (below(r, 10) == 0) {
    put(b, "\\N"); /* no runtime known: SQL NULL */
  } else {
    put(b, "%d", 60 + (int)below(r, 120));
  }
  put(b, "\t%s\t%.1f\t%d\t[", ratings[below(r, 5)], 1.0 + unit(r) * 9.0,
      (int)below(r, 200000));
  int ng = 1 + (int)below(r, 3);
  for (int g = 0; g < ng; g++) {
    put(b, "%s\"%s\"", g ? ", " : "", genres[below(r, NGENRES)]);
  }
  int wins = (int)below(r, 12), noms = wins + (int)below(r, 20);
  put(b,
      "]\t{\"wins\": %d, \"nominations\": %d, \"text\": \"%d wins & %d "
      "nominations.\"}\t",
      wins, noms, wins, noms);
  if (below(r, 4) == 0) {
    put(b, "\\N");
  } else { /* a small poster thumbnail: 16 bytes, hex, backslash doubled */
    put(b, "\\\\x");
    for (int i = 0; i < 16; i++) {
      put(b, "%02x", (unsigned)below(r, 256));
    }
  }
  put(b, "\t%s\n", below(r, 8) == 0 ? "t" : "f");
}

static void comment_row(copybuf *b, rng *r, int64_t id, int64_t movies) {
  double u = unit(r);
  int64_t movie = 1 + (int64_t)(u * u * (double)movies);
  if (movie > movies) {
    movie = movies;
  }
  const char *name = first_names[below(r, 12)];
  put(b, "%" PRId64 "\t%" PRId64 "\t%s %s\t%s.%" PRIu64 "@example.org\t", id,
      movie, name, words[below(r, NWORDS)], name, below(r, 1000));
  put_words(b, r, 8 + (int)below(r, 30));
  put(b, "\t%04d-%02d-%02d %02d:%02d:%02d+00\n", 1970 + (int)below(r, 50),
      1 + (int)below(r, 12), 1 + (int)below(r, 28), (int)below(r, 24),
      (int)below(r, 60), (int)below(r, 60));
}

static int exec_ok(PGconn *conn, const char *sql, char *err, size_t errlen) {
  PGresult *res = PQexec(conn, sql);
  int ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
           PQresultStatus(res) == PGRES_TUPLES_OK;
  if (!ok) {
    snprintf(err, errlen, "%s", PQerrorMessage(conn));
  }
  PQclear(res);
  return ok;
}

static int copy_rows(PGconn *conn, const char *table, int64_t n, rng *r,
                     int64_t movies, char *err, size_t errlen) {
  char sql[128];
  snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
  PGresult *res = PQexec(conn, sql);
  int ok = PQresultStatus(res) == PGRES_COPY_IN;
  PQclear(res);
  if (!ok) {
    snprintf(err, errlen, "%s", PQerrorMessage(conn));
    return 0;
  }
  copybuf *b = malloc(sizeof *b);
  if (!b) {
    PQputCopyEnd(conn, "no memory");
    snprintf(err, errlen, "no memory for the COPY buffer");
    return 0;
  }
  b->conn = conn, b->len = 0, b->failed = 0;
  for (int64_t id = 1; id <= n; id++) {
    if (movies) {
      comment_row(b, r, id, movies);
    } else {
      movie_row(b, r, id);
    }
  }
  flush(b);
  int failed = b->failed;
  free(b);
  if (failed || PQputCopyEnd(conn, NULL) != 1) {
    snprintf(err, errlen, "%s", PQerrorMessage(conn));
    return 0;
  }
  res = PQgetResult(conn);
  ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok) {
    snprintf(err, errlen, "%s", PQerrorMessage(conn));
  }
  PQclear(res);
  while ((res = PQgetResult(conn))) {
    PQclear(res);
  }
  return ok;
}

/* Waits until `parties` sessions have arrived at the rendezvous of this
 * tag, or fails after timeout_s: how a test proves that two actors'
 * queries overlapped, seen by the server itself. Arriving is taking a
 * shared advisory lock on the tag, held until the session ends (locks are
 * seen by every session at once, unlike rows, and one held on stays
 * counted: a party that saw everyone and went on cannot leave a slower one
 * waiting). A party leaves only once all have arrived, so each was running
 * its query while the last one arrived. Tags must not be reused by a
 * session. */
static const char rendezvous_sql[] =
    "CREATE OR REPLACE FUNCTION dbagg_rendezvous(tag text, parties int, "
    "timeout_s float8) RETURNS int LANGUAGE plpgsql VOLATILE AS $$\n"
    "DECLARE n int; key int := hashtext(tag);\n"
    "  deadline timestamptz := clock_timestamp() + timeout_s * interval '1 "
    "second';\n"
    "BEGIN\n"
    "  PERFORM pg_advisory_lock_shared(7391, key);\n"
    "  LOOP\n"
    "    SELECT count(DISTINCT pid) INTO n FROM pg_locks WHERE locktype = "
    "'advisory' AND classid = 7391 AND objid = key::oid AND objsubid = 2 AND "
    "granted;\n"
    "    EXIT WHEN n >= parties;\n"
    "    IF clock_timestamp() > deadline THEN\n"
    "      RAISE EXCEPTION 'rendezvous %: % of % queries running after % s',"
    " tag, n, parties, timeout_s;\n"
    "    END IF;\n"
    "    PERFORM pg_sleep(0.01);\n"
    "  END LOOP;\n"
    "  RETURN n;\n"
    "END $$";

int mflix_load(PGconn *conn, mflix_size size, uint64_t seed, char *err,
               size_t errlen) {
  rng r = {seed ? seed : 0x9E3779B97F4A7C15ULL};
  static const char schema[] =
      "SET client_min_messages = warning;"
      "DROP TABLE IF EXISTS comments, movies;"
      "CREATE TABLE movies (id int PRIMARY KEY, title text NOT NULL,"
      " year int NOT NULL, runtime int, rated text, imdb_rating float8,"
      " imdb_votes int, genres jsonb, awards jsonb, poster bytea,"
      " series bool NOT NULL);"
      "CREATE TABLE comments (id int PRIMARY KEY, movie_id int NOT NULL,"
      " name text NOT NULL, email text NOT NULL, text text NOT NULL,"
      " date timestamptz NOT NULL)";
  if (!exec_ok(conn, schema, err, errlen) ||
      !copy_rows(conn, "movies", size.movies, &r, 0, err, errlen) ||
      !copy_rows(conn, "comments", size.comments, &r, size.movies, err,
                 errlen) ||
      !exec_ok(conn,
               "CREATE INDEX comments_movie_id ON comments (movie_id);"
               "ANALYZE movies; ANALYZE comments;"
               "GRANT SELECT ON movies, comments TO PUBLIC",
               err, errlen) ||
      !exec_ok(conn, rendezvous_sql, err, errlen)) {
    return -1;
  }
  return 0;
}
