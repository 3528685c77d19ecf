#include "nm_csv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct field {
  const char *p; /* raw bytes, quotes included for a quoted field */
  size_t len;
  bool quoted;
} field;

typedef struct parser {
  const char *buf, *path;
  size_t len, pos;
  size_t line;     /* where the parser is, 1-based */
  size_t rec_line; /* where the last record read starts */
  char sep;
  field *fields;
  size_t nfields, cap;
} parser;

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int read_file(const char *path, char **data, size_t *len, char *err,
                     size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fail(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    return -1;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) {
      break;
    }
    char *grown = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
    if (!grown) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = grown;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    fail(err, errlen, "cannot read '%s': %s", path,
         bad ? "read error" : "out of memory");
    free(buf);
    return -1;
  }
  *data = buf;
  *len = n;
  return 0;
}

static int push_field(parser *ps, const char *p, size_t len, bool quoted) {
  if (ps->nfields == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 16;
    field *grown = realloc(ps->fields, cap * sizeof *grown);
    if (!grown) {
      return -1;
    }
    ps->fields = grown;
    ps->cap = cap;
  }
  ps->fields[ps->nfields++] = (field){p, len, quoted};
  return 0;
}

/* Reads the next non-blank record into ps->fields. Returns 1 for a
 * record, 0 at the end, -1 with err set. */
static int next_record(parser *ps, char *err, size_t errlen) {
  const char *b = ps->buf;
  for (;;) { /* blank lines */
    if (ps->pos < ps->len && b[ps->pos] == '\n') {
      ps->pos++, ps->line++;
    } else if (ps->pos + 1 < ps->len && b[ps->pos] == '\r' &&
               b[ps->pos + 1] == '\n') {
      ps->pos += 2, ps->line++;
    } else {
      break;
    }
  }
  if (ps->pos >= ps->len) {
    return 0;
  }
  ps->nfields = 0;
  size_t start_line = ps->rec_line = ps->line;
  for (;;) {
    size_t s = ps->pos;
    bool quoted = s < ps->len && b[s] == '"';
    size_t e;
    if (quoted) {
      e = s + 1;
      for (;;) {
        if (e >= ps->len) {
          fail(err, errlen, "%s line %zu: a quoted field is never closed",
               ps->path, start_line);
          return -1;
        }
        if (b[e] == '"') {
          if (e + 1 < ps->len && b[e + 1] == '"') {
            e += 2;
            continue;
          }
          e++;
          break;
        }
        if (b[e] == '\n') {
          ps->line++;
        }
        e++;
      }
      if (e < ps->len && b[e] != ps->sep && b[e] != '\n' &&
          !(b[e] == '\r' && e + 1 < ps->len && b[e + 1] == '\n') &&
          !(b[e] == '\r' && e + 1 == ps->len)) {
        fail(err, errlen, "%s line %zu: text after a closing quote", ps->path,
             ps->line);
        return -1;
      }
    } else {
      e = s;
      while (e < ps->len && b[e] != ps->sep && b[e] != '\n') {
        e++;
      }
    }
    size_t flen = e - s;
    /* A CR before the LF ending the record belongs to the line break. */
    bool at_eol = e >= ps->len || b[e] == '\n' ||
                  (b[e] == '\r' && (e + 1 == ps->len || b[e + 1] == '\n'));
    if (!quoted && flen > 0 && b[e - 1] == '\r' &&
        (e == ps->len || b[e] == '\n')) {
      flen--;
    }
    if (push_field(ps, b + s, flen, quoted) != 0) {
      fail(err, errlen, "%s: out of memory", ps->path);
      return -1;
    }
    if (!at_eol && e < ps->len && b[e] == ps->sep) {
      ps->pos = e + 1;
      continue;
    }
    while (e < ps->len && b[e] != '\n') {
      e++; /* the CR of a quoted field's CRLF */
    }
    ps->pos = e < ps->len ? e + 1 : e;
    ps->line++;
    return 1;
  }
}

/* Copies a field's value (unquoted, "" made ") to out; returns its length. */
static size_t field_value(const field *f, char *out) {
  if (!f->quoted) {
    memcpy(out, f->p, f->len);
    return f->len;
  }
  size_t n = 0;
  for (size_t i = 1; i + 1 < f->len; i++) {
    out[n++] = f->p[i];
    if (f->p[i] == '"') {
      i++; /* the second quote of a pair */
    }
  }
  return n;
}

static bool all_digits(const char *s) {
  if (!*s) {
    return false;
  }
  for (; *s; s++) {
    if (!isdigit((unsigned char)*s)) {
      return false;
    }
  }
  return true;
}

/* Which field holds the names; -1 with err set if none does. */
static long pick_column(parser *ps, const nm_csv_spec *spec, char **title,
                        char *err, size_t errlen) {
  const char *want = spec->column;
  if (want && all_digits(want)) {
    long n = strtol(want, NULL, 10);
    if (n < 1 || (spec->header && (size_t)n > ps->nfields)) {
      fail(err, errlen, "%s: no column %s (the header has %zu)", ps->path, want,
           ps->nfields);
      return -1;
    }
    return n - 1;
  }
  if (want && !spec->header) {
    fail(err, errlen,
         "%s: column '%s' is a name, but the file has no header (give a "
         "column number)",
         ps->path, want);
    return -1;
  }
  if (!spec->header) {
    return 0;
  }
  char *names = malloc(ps->len + 1);
  if (!names) {
    fail(err, errlen, "%s: out of memory", ps->path);
    return -1;
  }
  long found = -1;
  size_t listed = 0;
  for (size_t i = 0; i < ps->nfields; i++) {
    size_t n = field_value(&ps->fields[i], names + listed);
    names[listed + n] = '\0';
    if (found < 0 && strcasecmp(names + listed, want ? want : "name") == 0) {
      found = (long)i;
      *title = strdup(names + listed);
    }
    names[listed + n] = i + 1 < ps->nfields ? ',' : '\0';
    listed += n + 1;
  }
  if (found < 0 && !want) {
    found = 0; /* no "name" column: the first */
    size_t n = field_value(&ps->fields[0], names);
    names[n] = '\0';
    *title = strdup(names);
  }
  if (found < 0) {
    names[listed ? listed - 1 : 0] = '\0';
    fail(err, errlen, "%s: no column '%s' in the header (it has: %s)", ps->path,
         want, names);
  }
  free(names);
  return found;
}

int nm_csv_read_column(const char *path, const nm_csv_spec *spec,
                       nm_column *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  char *data;
  size_t len;
  if (read_file(path, &data, &len, err, errlen) != 0) {
    return -1;
  }
  parser ps = {.buf = data,
               .len = len,
               .path = path,
               .line = 1,
               .sep = spec->separator ? spec->separator : ','};
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
    ps.pos = 3;
  }
  int rc = -1;
  size_t cap = 1024;
  /* Values never take more room than the file: one buffer for all. */
  out->text = malloc(len + 1);
  out->start = malloc(cap * sizeof *out->start);
  out->len = malloc(cap * sizeof *out->len);
  if (!out->text || !out->start || !out->len) {
    fail(err, errlen, "%s: out of memory", path);
    goto done;
  }
  long col = 0;
  char numbered[32];
  int got = next_record(&ps, err, errlen);
  if (got < 0) {
    goto done;
  }
  if (got == 0 && spec->header) {
    fail(err, errlen, "%s: empty file (no header)", path);
    goto done;
  }
  if (got == 1) {
    col = pick_column(&ps, spec, &out->title, err, errlen);
    if (col < 0) {
      goto done;
    }
    if (spec->header) {
      got = next_record(&ps, err, errlen);
    }
  }
  if (!out->title) {
    snprintf(numbered, sizeof numbered, "column %ld", col + 1);
    out->title = strdup(numbered);
  }
  size_t used = 0;
  while (got == 1) {
    if ((size_t)col >= ps.nfields) {
      fail(err, errlen,
           "%s line %zu: %zu field%s, but the names are in column %ld (%s)",
           path, ps.rec_line, ps.nfields, ps.nfields == 1 ? "" : "s", col + 1,
           out->title ? out->title : "?");
      goto done;
    }
    if (out->count == cap) {
      cap *= 2;
      size_t *s = realloc(out->start, cap * sizeof *s);
      if (s) {
        out->start = s;
      }
      size_t *l = realloc(out->len, cap * sizeof *l);
      if (l) {
        out->len = l;
      }
      if (!s || !l) {
        fail(err, errlen, "%s: out of memory", path);
        goto done;
      }
    }
    size_t n = field_value(&ps.fields[col], out->text + used);
    out->text[used + n] = '\0';
    out->start[out->count] = used;
    out->len[out->count] = n;
    out->count++;
    used += n + 1;
    got = next_record(&ps, err, errlen);
  }
  rc = got < 0 ? -1 : 0;
done:
  free(ps.fields);
  free(data);
  if (rc != 0) {
    nm_column_free(out);
  }
  return rc;
}

void nm_column_free(nm_column *col) {
  free(col->text);
  free(col->start);
  free(col->len);
  free(col->title);
  memset(col, 0, sizeof *col);
}

void nm_csv_write_field(FILE *f, const char *s, size_t len) {
  bool quote = false;
  for (size_t i = 0; i < len && !quote; i++) {
    quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  }
  if (!quote) {
    fwrite(s, 1, len, f);
    return;
  }
  fputc('"', f);
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"') {
      fputc('"', f);
    }
    fputc(s[i], f);
  }
  fputc('"', f);
}
