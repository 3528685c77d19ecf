/*
 * Reading one column of a CSV file, and writing CSV fields.
 *
 * The dialect is RFC 4180's: fields separated by a comma (or another
 * separator), a field in double quotes may hold separators, line breaks and
 * doubled quotes (""), records end with LF or CRLF. A UTF-8 byte order mark
 * at the start is skipped, and so are blank lines.
 */
#ifndef NM_CSV_H
#define NM_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct nm_column {
  char *text;    /* every value, each NUL-terminated */
  size_t *start; /* value i is text + start[i] */
  size_t *len;   /* of len[i] bytes */
  size_t count;
  char *title; /* the column's header name ("column 1" without one) */
} nm_column;

typedef struct nm_csv_spec {
  /* The column: a header name (any case), a 1-based number, or NULL for
   * the column named "name" if the header has one, else the first. */
  const char *column;
  int header;     /* 1: the first record is a header, not a name */
  char separator; /* ',' unless told */
} nm_csv_spec;

/*
 * Reads the column of every record of the file at path. Returns 0, or -1
 * with a message naming the file (and line) and what is wrong in err:
 * a file that cannot be read, an unknown column, a record too short for
 * the column, an unterminated quote.
 */
int nm_csv_read_column(const char *path, const nm_csv_spec *spec,
                       nm_column *out, char *err, size_t errlen);
void nm_column_free(nm_column *col);

/* Writes one field, quoted if it holds a separator, quote or line break. */
void nm_csv_write_field(FILE *f, const char *s, size_t len);

#endif
