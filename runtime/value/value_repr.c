/*
 * manta_value_repr: a value as text for people (logs, messages, tests),
 * depth-limited, the only walk over a value that recurses.
 */
#include "value_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct strbuf {
  char *buf;
  size_t len;
  size_t cap;
  bool failed;
} strbuf;

static bool sb_reserve(strbuf *sb, size_t more) {
  if (sb->failed) {
    return false;
  }
  if (more <= sb->cap - sb->len) {
    return true;
  }
  size_t cap = sb->cap ? sb->cap : 64;
  while (cap - sb->len < more) {
    if (cap > SIZE_MAX / 2) {
      sb->failed = true;
      return false;
    }
    cap *= 2;
  }
  char *buf = realloc(sb->buf, cap);
  if (!buf) {
    sb->failed = true;
    return false;
  }
  sb->buf = buf;
  sb->cap = cap;
  return true;
}

static void sb_put(strbuf *sb, const char *s, size_t n) {
  if (sb_reserve(sb, n + 1)) {
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
  }
}

static void sb_puts(strbuf *sb, const char *s) {
  sb_put(sb, s, strlen(s));
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
sb_printf(strbuf *sb, const char *fmt, ...) {
  char small[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    sb->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    sb_put(sb, small, (size_t)n);
    return;
  }
  if (sb_reserve(sb, (size_t)n + 1)) {
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
  }
}

static void repr_quoted(strbuf *sb, const char *s, size_t len) {
  sb_put(sb, "\"", 1);
  size_t run = 0; /* bytes copied through unescaped, flushed in one go */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    switch (c) {
    case '"':
      esc = "\\\"";
      break;
    case '\\':
      esc = "\\\\";
      break;
    case '\n':
      esc = "\\n";
      break;
    case '\r':
      esc = "\\r";
      break;
    case '\t':
      esc = "\\t";
      break;
    default:
      if (c >= 0x20 && c != 0x7f) {
        run++;
        continue;
      }
    }
    sb_put(sb, s + i - run, run);
    run = 0;
    if (esc) {
      sb_puts(sb, esc);
    } else {
      sb_printf(sb, "\\u%04x", c);
    }
  }
  sb_put(sb, s + len - run, run);
  sb_put(sb, "\"", 1);
}

#define REPR_BYTES_SHOWN 32

static void repr_bytes(strbuf *sb, const unsigned char *p, size_t len) {
  size_t shown = len < REPR_BYTES_SHOWN ? len : REPR_BYTES_SHOWN;
  sb_put(sb, "b\"", 2);
  for (size_t i = 0; i < shown; i++) {
    if (p[i] == '"' || p[i] == '\\') {
      char esc[2] = {'\\', (char)p[i]};
      sb_put(sb, esc, 2);
    } else if (p[i] >= 0x20 && p[i] < 0x7f) {
      sb_put(sb, (const char *)p + i, 1);
    } else {
      sb_printf(sb, "\\x%02x", p[i]);
    }
  }
  sb_put(sb, "\"", 1);
  if (shown < len) {
    sb_printf(sb, "...(%zu bytes)", len);
  }
}

/* The shortest of %.15g..%.17g that reads back as the same double, so 0.1
 * prints as 0.1 and yet no value is ever misrepresented. */
static void repr_double(strbuf *sb, double d) {
  if (isnan(d)) {
    sb_puts(sb, "nan");
    return;
  }
  if (isinf(d)) {
    sb_puts(sb, d > 0 ? "inf" : "-inf");
    return;
  }
  char tmp[48];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (strtod(tmp, NULL) == d) {
      break;
    }
  }
  bool fraction = false;
  for (char *p = tmp; *p; p++) {
    if (*p == 'e') {
      fraction = true;
    } else if (!(*p >= '0' && *p <= '9') && *p != '-' && *p != '+') {
      /* The locale's decimal point, whatever it is, prints as '.'. */
      *p = '.';
      fraction = true;
    }
  }
  sb_puts(sb, tmp);
  if (!fraction) {
    sb_puts(sb, ".0");
  }
}

static void repr_wire_id(strbuf *sb, const uint8_t wire[16]) {
  for (int i = 0; i < 16; i++) {
    sb_printf(sb, "%02x", wire[i]);
  }
}

/* `level` counts the containers around v; past MANTA_MAX_DEPTH the rest of a
 * container prints as "...", which also bounds this recursion. */
static void repr_value(strbuf *sb, const manta_value *v, int level) {
  bool container = v->kind == MANTA_KIND_LIST || v->kind == MANTA_KIND_MAP ||
                   v->kind == MANTA_KIND_ERROR;
  if (container && level >= MANTA_MAX_DEPTH) {
    sb_puts(sb, "...");
    return;
  }
  uint8_t wire[16];
  switch ((manta_kind)v->kind) {
  case MANTA_KIND_NULL:
    sb_puts(sb, "null");
    break;
  case MANTA_KIND_BOOL:
    sb_puts(sb, v->u.b ? "true" : "false");
    break;
  case MANTA_KIND_INT:
    sb_printf(sb, "%lld", (long long)v->u.i);
    break;
  case MANTA_KIND_DOUBLE:
    repr_double(sb, v->u.d);
    break;
  case MANTA_KIND_STRING:
    repr_quoted(sb, v->u.str.data, v->u.str.len);
    break;
  case MANTA_KIND_BYTES:
    repr_bytes(sb, v->u.bytes.data, v->u.bytes.len);
    break;
  case MANTA_KIND_LIST:
    sb_put(sb, "[", 1);
    for (size_t i = 0; i < v->u.list.len && !sb->failed; i++) {
      if (i) {
        sb_put(sb, ", ", 2);
      }
      repr_value(sb, v->u.list.items[i], level + 1);
    }
    sb_put(sb, "]", 1);
    break;
  case MANTA_KIND_MAP:
    sb_put(sb, "{", 1);
    for (uint32_t i = 0; i < v->u.map.len && !sb->failed; i++) {
      const mt_map_entry *e = &v->u.map.entries[i];
      if (i) {
        sb_put(sb, ", ", 2);
      }
      repr_quoted(sb, e->key, e->klen);
      sb_put(sb, ": ", 2);
      repr_value(sb, e->val, level + 1);
    }
    sb_put(sb, "}", 1);
    break;
  case MANTA_KIND_REF:
    mt_value_hooks_get()->ref_to_wire(v->u.id, wire);
    sb_puts(sb, "ref(obj-");
    repr_wire_id(sb, wire);
    sb_put(sb, ")", 1);
    break;
  case MANTA_KIND_ACTOR:
    mt_value_hooks_get()->actor_to_wire(v->u.id, wire);
    sb_puts(sb, "actor(");
    repr_wire_id(sb, wire);
    sb_put(sb, ")", 1);
    break;
  case MANTA_KIND_ERROR: {
    const char *name = manta_errname((manta_err)v->u.err.code);
    sb_puts(sb, "error(");
    sb_puts(sb, name);
    if (strcmp(name, "MANTA_ERR_UNKNOWN") == 0) {
      sb_printf(sb, "(%d)", (int)v->u.err.code);
    }
    sb_puts(sb, ": ");
    sb_puts(sb, v->u.err.message);
    if (v->u.err.origin) {
      sb_puts(sb, " @ ");
      sb_puts(sb, v->u.err.origin);
    }
    if (v->u.err.cause) {
      sb_puts(sb, "; cause: ");
      repr_value(sb, v->u.err.cause, level + 1);
    }
    sb_put(sb, ")", 1);
    break;
  }
  }
}

char *manta_value_repr(const manta_value *v) {
  if (!v) {
    return NULL;
  }
  strbuf sb = {NULL, 0, 0, false};
  repr_value(&sb, v, 0);
  if (sb.failed) {
    free(sb.buf);
    return NULL;
  }
  return sb.buf;
}
