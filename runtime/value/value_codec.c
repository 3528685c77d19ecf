/*
 * manta_value <-> protobuf bytes of manta.v1.Value
 * (proto/manta/v1/value.proto), written by hand rather than with protoc-c's
 * generated code: decoding goes straight into manta_values (no intermediate
 * protobuf-c tree to build and free), the depth is checked before every
 * descent, and the output is byte-for-byte what protobuf-c packs (fields in
 * number order, proto3 defaults omitted except in the oneof).
 */
#include "value_internal.h"

#include "pbwire.h"

#include <stdlib.h>
#include <string.h>

/* A 16-byte id in a one-byte-length field behind a one-byte tag. */
#define ID_FIELD_SIZE 18

/* Past this an encoding cannot be allocated anyway; checking here keeps the
 * size arithmetic from wrapping when a shared subvalue repeats many times. */
#define ENC_MAX (SIZE_MAX / 4)

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

/* A length-delimited field of `n` bytes under a one-byte tag. */
static size_t len_field_size(size_t n) {
  return 1 + mt_pb_varint_size(n) + n;
}

/*
 * The body size of every container (ListValue, MapValue, Error) is computed
 * once in a first pass and kept in pre-order; the write pass consumes the
 * sizes in the same order, so encoding is linear in the size of the value.
 */
typedef struct enc {
  size_t *sizes;
  size_t n;
  size_t cap;
  size_t next; /* write pass: the next size to consume */
  size_t local[64];
} enc;

static bool enc_reserve(enc *e, size_t *slot) {
  if (e->n == e->cap) {
    if (e->cap > SIZE_MAX / 2 / sizeof(size_t)) {
      return false;
    }
    size_t cap = e->cap * 2;
    size_t *s = e->sizes == e->local ? malloc(cap * sizeof *s)
                                     : realloc(e->sizes, cap * sizeof *s);
    if (!s) {
      return false;
    }
    if (e->sizes == e->local) {
      memcpy(s, e->local, sizeof e->local);
    }
    e->sizes = s;
    e->cap = cap;
  }
  *slot = e->n++;
  return true;
}

static size_t scalar_body_size(const manta_value *v) {
  switch ((manta_kind)v->kind) {
  case MANTA_KIND_NULL:
  case MANTA_KIND_BOOL:
    return 2;
  case MANTA_KIND_INT:
    return 1 + mt_pb_varint_size(mt_pb_zigzag(v->u.i));
  case MANTA_KIND_DOUBLE:
    return 9;
  case MANTA_KIND_STRING:
    return len_field_size(v->u.str.len);
  case MANTA_KIND_BYTES:
    return len_field_size(v->u.bytes.len);
  case MANTA_KIND_REF:
  case MANTA_KIND_ACTOR:
    return len_field_size(ID_FIELD_SIZE);
  default:
    return 0;
  }
}

static bool is_container(const manta_value *v) {
  return v->kind == MANTA_KIND_LIST || v->kind == MANTA_KIND_MAP ||
         v->kind == MANTA_KIND_ERROR;
}

static size_t error_fixed_size(const manta_value *v) {
  size_t n = 0;
  if (v->u.err.code) {
    /* int32 is sign-extended to 64 bits on the wire, as protobuf does. */
    n += 1 + mt_pb_varint_size((uint64_t)(int64_t)v->u.err.code);
  }
  size_t mlen = strlen(v->u.err.message);
  if (mlen) {
    n += len_field_size(mlen);
  }
  if (v->u.err.origin) {
    n += len_field_size(strlen(v->u.err.origin));
  }
  return n;
}

static size_t key_field_size(const mt_map_entry *e) {
  return e->klen ? len_field_size(e->klen) : 0;
}

/* Adds b to *a unless the total would pass ENC_MAX. */
static bool add_size(size_t *a, size_t b) {
  if (b > ENC_MAX - *a) {
    return false;
  }
  *a += b;
  return true;
}

/* First pass: the size of v's Value message. `level` counts the containers
 * around v; the check comes before descending, so the recursion is bounded by
 * MANTA_MAX_DEPTH whatever was built. */
static manta_err size_value(enc *e, const manta_value *v, int level,
                            size_t *out) {
  if (!is_container(v)) {
    *out = scalar_body_size(v);
    return MANTA_OK;
  }
  if (level >= MANTA_MAX_DEPTH) {
    return MANTA_ERR_TOO_DEEP;
  }
  size_t slot;
  if (!enc_reserve(e, &slot)) {
    return MANTA_ERR_NOMEM;
  }
  size_t body = 0, child;
  manta_err err = MANTA_OK;
  switch ((manta_kind)v->kind) {
  case MANTA_KIND_LIST:
    for (size_t i = 0; i < v->u.list.len && !err; i++) {
      err = size_value(e, v->u.list.items[i], level + 1, &child);
      if (!err && !add_size(&body, len_field_size(child))) {
        err = MANTA_ERR_NOMEM;
      }
    }
    break;
  case MANTA_KIND_MAP:
    for (uint32_t i = 0; i < v->u.map.len && !err; i++) {
      const mt_map_entry *ent = &v->u.map.entries[i];
      err = size_value(e, ent->val, level + 1, &child);
      if (!err) {
        size_t entry = key_field_size(ent) + len_field_size(child);
        if (!add_size(&body, len_field_size(entry))) {
          err = MANTA_ERR_NOMEM;
        }
      }
    }
    break;
  default: /* error */
    body = error_fixed_size(v);
    if (v->u.err.cause) {
      err = size_value(e, v->u.err.cause, level + 1, &child);
      if (!err && !add_size(&body, len_field_size(child))) {
        err = MANTA_ERR_NOMEM;
      }
    }
    break;
  }
  if (err) {
    return err;
  }
  e->sizes[slot] = body;
  *out = len_field_size(body);
  return MANTA_OK;
}

/* In the write pass: the size of the Value about to be written. A container
 * child's body size is the next one in pre-order. */
static size_t next_value_size(const enc *e, const manta_value *v) {
  return is_container(v) ? len_field_size(e->sizes[e->next])
                         : scalar_body_size(v);
}

static uint8_t *put_varint(uint8_t *p, uint64_t x) {
  return p + mt_pb_put_varint(p, x);
}

static uint8_t *put_len_field(uint8_t *p, uint8_t tag, const void *data,
                              size_t n) {
  *p++ = tag;
  p = put_varint(p, n);
  if (n) {
    memcpy(p, data, n);
  }
  return p + n;
}

static uint8_t *put_id(uint8_t *p, uint8_t tag, const uint8_t wire[16]) {
  *p++ = tag;
  *p++ = ID_FIELD_SIZE;
  return put_len_field(p, MT_PB_TAG(1, MT_PB_LEN), wire, 16);
}

static uint8_t *write_value(enc *e, const manta_value *v, uint8_t *p) {
  const mt_value_hooks *h = mt_value_hooks_get();
  uint8_t wire[16];
  switch ((manta_kind)v->kind) {
  case MANTA_KIND_NULL:
    *p++ = MT_PB_TAG(MT_VALUE_F_NULL, MT_PB_VARINT);
    *p++ = 0;
    return p;
  case MANTA_KIND_BOOL:
    *p++ = MT_PB_TAG(MT_VALUE_F_BOOL, MT_PB_VARINT);
    *p++ = (uint8_t)(v->u.b != 0);
    return p;
  case MANTA_KIND_INT:
    *p++ = MT_PB_TAG(MT_VALUE_F_INT, MT_PB_VARINT);
    return put_varint(p, mt_pb_zigzag(v->u.i));
  case MANTA_KIND_DOUBLE: {
    uint64_t bits;
    memcpy(&bits, &v->u.d, 8);
    *p++ = MT_PB_TAG(MT_VALUE_F_DOUBLE, MT_PB_FIXED64);
    for (int i = 0; i < 8; i++) {
      *p++ = (uint8_t)(bits >> (8 * i));
    }
    return p;
  }
  case MANTA_KIND_STRING:
    return put_len_field(p, MT_PB_TAG(MT_VALUE_F_STRING, MT_PB_LEN),
                         v->u.str.data, v->u.str.len);
  case MANTA_KIND_BYTES:
    return put_len_field(p, MT_PB_TAG(MT_VALUE_F_BYTES, MT_PB_LEN),
                         v->u.bytes.data, v->u.bytes.len);
  case MANTA_KIND_REF:
    h->ref_to_wire(v->u.id, wire);
    return put_id(p, MT_PB_TAG(MT_VALUE_F_REF, MT_PB_LEN), wire);
  case MANTA_KIND_ACTOR:
    h->actor_to_wire(v->u.id, wire);
    return put_id(p, MT_PB_TAG(MT_VALUE_F_ACTOR, MT_PB_LEN), wire);
  case MANTA_KIND_LIST:
    *p++ = MT_PB_TAG(MT_VALUE_F_LIST, MT_PB_LEN);
    p = put_varint(p, e->sizes[e->next++]);
    for (size_t i = 0; i < v->u.list.len; i++) {
      const manta_value *item = v->u.list.items[i];
      *p++ = MT_PB_TAG(1, MT_PB_LEN);
      p = put_varint(p, next_value_size(e, item));
      p = write_value(e, item, p);
    }
    return p;
  case MANTA_KIND_MAP:
    *p++ = MT_PB_TAG(MT_VALUE_F_MAP, MT_PB_LEN);
    p = put_varint(p, e->sizes[e->next++]);
    for (uint32_t i = 0; i < v->u.map.len; i++) {
      const mt_map_entry *ent = &v->u.map.entries[i];
      size_t vsize = next_value_size(e, ent->val);
      *p++ = MT_PB_TAG(1, MT_PB_LEN);
      p = put_varint(p, key_field_size(ent) + len_field_size(vsize));
      if (ent->klen) {
        p = put_len_field(p, MT_PB_TAG(1, MT_PB_LEN), ent->key, ent->klen);
      }
      *p++ = MT_PB_TAG(2, MT_PB_LEN);
      p = put_varint(p, vsize);
      p = write_value(e, ent->val, p);
    }
    return p;
  case MANTA_KIND_ERROR:
    *p++ = MT_PB_TAG(MT_VALUE_F_ERROR, MT_PB_LEN);
    p = put_varint(p, e->sizes[e->next++]);
    if (v->u.err.code) {
      *p++ = MT_PB_TAG(1, MT_PB_VARINT);
      p = put_varint(p, (uint64_t)(int64_t)v->u.err.code);
    }
    if (v->u.err.message[0]) {
      p = put_len_field(p, MT_PB_TAG(2, MT_PB_LEN), v->u.err.message,
                        strlen(v->u.err.message));
    }
    if (v->u.err.origin) {
      p = put_len_field(p, MT_PB_TAG(3, MT_PB_LEN), v->u.err.origin,
                        strlen(v->u.err.origin));
    }
    if (v->u.err.cause) {
      *p++ = MT_PB_TAG(4, MT_PB_LEN);
      p = put_varint(p, next_value_size(e, v->u.err.cause));
      p = write_value(e, v->u.err.cause, p);
    }
    return p;
  }
  return p;
}

manta_err manta_value_encode(const manta_value *v, void **buf, size_t *len) {
  if (buf) {
    *buf = NULL;
  }
  if (len) {
    *len = 0;
  }
  if (!v || !buf || !len) {
    return MANTA_ERR_INVALID;
  }
  enc e = {.n = 0, .cap = sizeof e.local / sizeof e.local[0], .next = 0};
  e.sizes = e.local;
  size_t total;
  manta_err err = size_value(&e, v, 0, &total);
  uint8_t *out = NULL;
  if (!err) {
    out = malloc(total);
    err = out ? MANTA_OK : MANTA_ERR_NOMEM;
  }
  if (!err) {
    uint8_t *end = write_value(&e, v, out);
    if ((size_t)(end - out) != total || e.next != e.n) {
      free(out); /* the two passes disagree: a bug, never bad bytes out */
      err = MANTA_ERR_INTERNAL;
    } else {
      *buf = out;
      *len = total;
    }
  }
  if (e.sizes != e.local) {
    free(e.sizes);
  }
  return err;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */
/* ------------------------------------------------------------------------ */

/* The unread part of one message. */
typedef struct rd {
  const uint8_t *p;
  const uint8_t *end;
} rd;

static manta_err rd_varint(rd *r, uint64_t *out) {
  if (r->p < r->end && *r->p < 0x80) { /* tags and small numbers */
    *out = *r->p++;
    return MANTA_OK;
  }
  size_t k =
      mt_pb_get_varint(r->p, (size_t)(r->end - r->p), MT_PB_VARINT_MAX, out);
  r->p += k;
  return k ? MANTA_OK : MANTA_ERR_MALFORMED;
}

static manta_err rd_tag(rd *r, uint32_t *field, unsigned *wt) {
  uint64_t x;
  manta_err err = rd_varint(r, &x);
  if (err) {
    return err;
  }
  /* Field numbers are 1 .. 2^29-1. */
  if (x >> 3 == 0 || x >> 3 > 0x1fffffff) {
    return MANTA_ERR_MALFORMED;
  }
  *field = (uint32_t)(x >> 3);
  *wt = (unsigned)(x & 7);
  return MANTA_OK;
}

static manta_err rd_bytes(rd *r, size_t n, rd *sub) {
  if (n > (size_t)(r->end - r->p)) {
    return MANTA_ERR_MALFORMED;
  }
  sub->p = r->p;
  sub->end = r->p + n;
  r->p += n;
  return MANTA_OK;
}

static manta_err rd_len(rd *r, rd *sub) {
  uint64_t n;
  manta_err err = rd_varint(r, &n);
  if (err) {
    return err;
  }
  if (n > (uint64_t)(r->end - r->p)) {
    return MANTA_ERR_MALFORMED;
  }
  return rd_bytes(r, (size_t)n, sub);
}

/* Skips an unknown field: fields are only ever added to the protocol, so a
 * newer peer's extra fields must not make a value unreadable. Groups (wire
 * types 3 and 4) were never used by value.proto and are refused. */
static manta_err rd_skip(rd *r, unsigned wt) {
  uint64_t x;
  rd sub;
  switch (wt) {
  case MT_PB_VARINT:
    return rd_varint(r, &x);
  case MT_PB_FIXED64:
    return rd_bytes(r, 8, &sub);
  case MT_PB_LEN:
    return rd_len(r, &sub);
  case MT_PB_FIXED32:
    return rd_bytes(r, 4, &sub);
  default:
    return MANTA_ERR_MALFORMED;
  }
}

/* Known fields must arrive with their own wire type: a mismatch is corrupt
 * data, not a newer schema (field types never change). */
static manta_err expect_wt(unsigned got, unsigned want) {
  return got == want ? MANTA_OK : MANTA_ERR_MALFORMED;
}

static size_t rd_size(const rd *r) {
  return (size_t)(r->end - r->p);
}

static manta_err decode_value(rd r, int level, manta_value **out);

static manta_err decode_list(rd r, int level, manta_value **out) {
  manta_value *list = manta_list();
  if (!list) {
    return MANTA_ERR_NOMEM;
  }
  manta_err err = MANTA_OK;
  while (r.p < r.end && !err) {
    uint32_t field;
    unsigned wt;
    err = rd_tag(&r, &field, &wt);
    if (!err && field == 1) {
      rd sub;
      manta_value *item = NULL;
      err = expect_wt(wt, MT_PB_LEN);
      if (!err) {
        err = rd_len(&r, &sub);
      }
      if (!err) {
        err = decode_value(sub, level, &item);
      }
      if (!err) {
        err = mt_list_append(list, item);
      }
    } else if (!err) {
      err = rd_skip(&r, wt);
    }
  }
  if (err) {
    manta_value_free(list);
    return err;
  }
  *out = list;
  return MANTA_OK;
}

static manta_err decode_entry(rd r, int level, manta_value *map) {
  rd key = {r.p, r.p};
  manta_value *val = NULL;
  manta_err err = MANTA_OK;
  while (r.p < r.end && !err) {
    uint32_t field;
    unsigned wt;
    rd sub;
    err = rd_tag(&r, &field, &wt);
    if (err) {
      break;
    }
    if (field == 1 || field == 2) {
      err = expect_wt(wt, MT_PB_LEN);
      if (!err) {
        err = rd_len(&r, &sub);
      }
      if (!err && field == 1) {
        key = sub;
      } else if (!err) {
        /* A repeated field: the last one wins. */
        manta_value *v = NULL;
        err = decode_value(sub, level, &v);
        if (!err) {
          manta_value_free(val);
          val = v;
        }
      }
    } else {
      err = rd_skip(&r, wt);
    }
  }
  /* Keys are C strings in the API: one with a NUL inside could not be looked
   * up or told apart from its prefix, so it is refused. */
  size_t klen = rd_size(&key);
  if (!err && klen && memchr(key.p, 0, klen)) {
    err = MANTA_ERR_MALFORMED;
  }
  if (!err && !val) {
    val = manta_null();
    err = val ? MANTA_OK : MANTA_ERR_NOMEM;
  }
  if (err) {
    manta_value_free(val);
    return err;
  }
  return mt_map_put_n(map, klen ? (const char *)key.p : "", klen, val);
}

static manta_err decode_map(rd r, int level, manta_value **out) {
  manta_value *map = manta_map();
  if (!map) {
    return MANTA_ERR_NOMEM;
  }
  manta_err err = MANTA_OK;
  while (r.p < r.end && !err) {
    uint32_t field;
    unsigned wt;
    err = rd_tag(&r, &field, &wt);
    if (!err && field == 1) {
      rd sub;
      err = expect_wt(wt, MT_PB_LEN);
      if (!err) {
        err = rd_len(&r, &sub);
      }
      if (!err) {
        err = decode_entry(sub, level, map);
      }
    } else if (!err) {
      err = rd_skip(&r, wt);
    }
  }
  if (err) {
    manta_value_free(map);
    return err;
  }
  *out = map;
  return MANTA_OK;
}

/* ObjectRef and ActorRef: the id becomes a counted local id through the
 * hooks. owner_address is read past: in one process the hooks know owners. */
static manta_err decode_id(rd r, manta_kind kind, manta_value **out) {
  rd id = {r.p, r.p};
  manta_err err = MANTA_OK;
  while (r.p < r.end && !err) {
    uint32_t field;
    unsigned wt;
    rd sub;
    err = rd_tag(&r, &field, &wt);
    if (!err && (field == 1 || field == 2)) {
      err = expect_wt(wt, MT_PB_LEN);
      if (!err) {
        err = rd_len(&r, &sub);
      }
      if (!err && field == 1) {
        id = sub;
      }
    } else if (!err) {
      err = rd_skip(&r, wt);
    }
  }
  if (err) {
    return err;
  }
  if (rd_size(&id) != 16) {
    return MANTA_ERR_MALFORMED;
  }
  const mt_value_hooks *h = mt_value_hooks_get();
  uint64_t local;
  err = kind == MANTA_KIND_REF ? h->ref_from_wire(id.p, &local)
                               : h->actor_from_wire(id.p, &local);
  if (err) {
    return err;
  }
  *out = mt_value_adopt_id(kind, local);
  return *out ? MANTA_OK : MANTA_ERR_NOMEM;
}

static manta_err decode_error(rd r, int level, manta_value **out) {
  int64_t code = 0;
  rd msg = {r.p, r.p}, origin = {r.p, r.p};
  manta_value *cause = NULL;
  manta_err err = MANTA_OK;
  while (r.p < r.end && !err) {
    uint32_t field;
    unsigned wt;
    rd sub;
    uint64_t x;
    err = rd_tag(&r, &field, &wt);
    if (err) {
      break;
    }
    switch (field) {
    case 1:
      err = expect_wt(wt, MT_PB_VARINT);
      if (!err) {
        err = rd_varint(&r, &x);
      }
      if (!err) {
        /* int32 arrives sign-extended; anything else is not an int32. */
        code = (int64_t)x;
        if (code < INT32_MIN || code > INT32_MAX) {
          err = MANTA_ERR_MALFORMED;
        }
      }
      break;
    case 2:
    case 3:
    case 4:
      err = expect_wt(wt, MT_PB_LEN);
      if (!err) {
        err = rd_len(&r, &sub);
      }
      if (!err && field == 2) {
        msg = sub;
      } else if (!err && field == 3) {
        origin = sub;
      } else if (!err) {
        manta_value *c = NULL;
        err = decode_value(sub, level, &c);
        if (!err) {
          manta_value_free(cause);
          cause = c;
        }
      }
      break;
    default:
      err = rd_skip(&r, wt);
      break;
    }
  }
  size_t mlen = rd_size(&msg), olen = rd_size(&origin);
  /* message and origin are C strings in the API; see decode_entry. */
  if (!err && ((mlen && memchr(msg.p, 0, mlen)) ||
               (olen && memchr(origin.p, 0, olen)))) {
    err = MANTA_ERR_MALFORMED;
  }
  manta_value *v = NULL;
  if (!err) {
    v = mt_error_build((int32_t)code, (const char *)msg.p, mlen,
                       (const char *)origin.p, olen);
    err = v ? MANTA_OK : MANTA_ERR_NOMEM;
  }
  if (err) {
    manta_value_free(cause);
    return err;
  }
  if (cause) {
    atomic_store_explicit(&cause->contained, 1, memory_order_relaxed);
  }
  v->u.err.cause = cause;
  *out = v;
  return MANTA_OK;
}

static manta_err decode_value(rd r, int level, manta_value **out) {
  manta_value *v = NULL;
  manta_err err = MANTA_OK;
  while (r.p < r.end && !err) {
    uint32_t field;
    unsigned wt;
    uint64_t x;
    rd sub;
    manta_value *nv = NULL;
    err = rd_tag(&r, &field, &wt);
    if (err) {
      break;
    }
    switch (field) {
    case MT_VALUE_F_NULL:
    case MT_VALUE_F_BOOL:
    case MT_VALUE_F_INT:
      err = expect_wt(wt, MT_PB_VARINT);
      if (!err) {
        err = rd_varint(&r, &x);
      }
      if (err) {
        break;
      }
      if (field == MT_VALUE_F_NULL) {
        nv = manta_null(); /* any enum number: NULL_VALUE is the only one */
      } else if (field == MT_VALUE_F_BOOL) {
        nv = manta_bool(x != 0);
      } else {
        nv = manta_int(mt_pb_unzigzag(x));
      }
      err = nv ? MANTA_OK : MANTA_ERR_NOMEM;
      break;
    case MT_VALUE_F_DOUBLE: {
      err = expect_wt(wt, MT_PB_FIXED64);
      if (!err) {
        err = rd_bytes(&r, 8, &sub);
      }
      if (err) {
        break;
      }
      uint64_t bits = 0;
      for (int i = 7; i >= 0; i--) {
        bits = (bits << 8) | sub.p[i];
      }
      double d;
      memcpy(&d, &bits, 8);
      nv = manta_double(d);
      err = nv ? MANTA_OK : MANTA_ERR_NOMEM;
      break;
    }
    case MT_VALUE_F_STRING:
    case MT_VALUE_F_BYTES:
      err = expect_wt(wt, MT_PB_LEN);
      if (!err) {
        err = rd_len(&r, &sub);
      }
      if (err) {
        break;
      }
      nv = field == MT_VALUE_F_STRING
               ? manta_string((const char *)sub.p, rd_size(&sub))
               : manta_bytes(sub.p, rd_size(&sub));
      err = nv ? MANTA_OK : MANTA_ERR_NOMEM;
      break;
    case MT_VALUE_F_LIST:
    case MT_VALUE_F_MAP:
    case MT_VALUE_F_REF:
    case MT_VALUE_F_ACTOR:
    case MT_VALUE_F_ERROR:
      err = expect_wt(wt, MT_PB_LEN);
      if (!err) {
        err = rd_len(&r, &sub);
      }
      if (err) {
        break;
      }
      if (field == MT_VALUE_F_REF || field == MT_VALUE_F_ACTOR) {
        err = decode_id(
            sub, field == MT_VALUE_F_REF ? MANTA_KIND_REF : MANTA_KIND_ACTOR,
            &nv);
      } else if (level >= MANTA_MAX_DEPTH) {
        /* Checked before descending: hostile nesting costs no stack. */
        err = MANTA_ERR_TOO_DEEP;
      } else if (field == MT_VALUE_F_LIST) {
        err = decode_list(sub, level + 1, &nv);
      } else if (field == MT_VALUE_F_MAP) {
        err = decode_map(sub, level + 1, &nv);
      } else {
        err = decode_error(sub, level + 1, &nv);
      }
      break;
    default:
      err = rd_skip(&r, wt);
      break;
    }
    if (nv) {
      /* A oneof seen twice: the last member wins, as in protobuf. */
      manta_value_free(v);
      v = nv;
    }
  }
  if (!err && !v) {
    v = manta_null(); /* no kind set reads as null */
    err = v ? MANTA_OK : MANTA_ERR_NOMEM;
  }
  if (err) {
    manta_value_free(v);
    return err;
  }
  *out = v;
  return MANTA_OK;
}

manta_err manta_value_decode(const void *buf, size_t len, manta_value **out) {
  if (out) {
    *out = NULL;
  }
  if (!out || (!buf && len)) {
    return MANTA_ERR_INVALID;
  }
  if (len == 0) {
    /* The empty message: a Value with no kind. (Also keeps NULL + 0 away.) */
    *out = manta_null();
    return *out ? MANTA_OK : MANTA_ERR_NOMEM;
  }
  const uint8_t *p = buf;
  rd r = {p, p + len};
  return decode_value(r, 0, out);
}
