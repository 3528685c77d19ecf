/*
 * Internal interface of the value module (value.c, value_codec.c).
 *
 * The value module knows nothing of the runtime: the runtime plugs in how
 * refs and actor handles held inside values are counted and how they are
 * named on the wire (mt_value_set_hooks). Without hooks, ids are kept as they
 * are and not counted, which is what the value unit tests use.
 */
#ifndef MT_VALUE_H
#define MT_VALUE_H

#include "manta.h"

#include <stdatomic.h>
#include <stdbool.h>

/* What a ref or actor id inside a value means to the runtime. */
typedef struct mt_value_hooks {
  void (*ref_retain)(uint64_t id);
  void (*ref_release)(uint64_t id);
  void (*actor_retain)(uint64_t id);
  void (*actor_release)(uint64_t id);
  /* The 16-byte wire id of a local id (value.proto ObjectRef/ActorRef). */
  void (*ref_to_wire)(uint64_t id, uint8_t wire[16]);
  void (*actor_to_wire)(uint64_t id, uint8_t wire[16]);
  /* A counted local id for a wire id, or an error (unknown, foreign). */
  manta_err (*ref_from_wire)(const uint8_t wire[16], uint64_t *id);
  manta_err (*actor_from_wire)(const uint8_t wire[16], uint64_t *id);
} mt_value_hooks;

/* Installs hooks (copied); NULL restores the uncounted defaults. Call only
 * while no value holding a ref or actor exists. */
void mt_value_set_hooks(const mt_value_hooks *hooks);

/* Marks v and everything inside it immutable. Idempotent, thread-safe once
 * the value is no longer being built. */
void mt_value_freeze(manta_value *v);
bool mt_value_frozen(const manta_value *v);

/* Bytes of string/bytes payload held by v and its children. */
size_t mt_value_payload_bytes(const manta_value *v);

/* Whether v or a value inside it is a ref or an actor handle (true also
 * when that cannot be found out for want of memory). */
bool mt_value_holds_handles(const manta_value *v);

/* The references to v held now: 1 means only its holder has it. */
uint32_t mt_value_refcount(const manta_value *v);

/* manta_value allocations alive in the process (MANTA_STAT_LIVE_VALUES). */
int64_t mt_value_live_count(void);

/* An error value with an origin; printf-style message. NULL on OOM. */
manta_value *mt_error_new(manta_err code, const char *origin, const char *fmt,
                          ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A ref (or actor) value taking over a count already held for id; NULL on
 * OOM, the count still the caller's. Safe under rt.mu (no hooks run). */
manta_value *mt_value_wrap_id(manta_kind kind, uint64_t id);

/* For a ref value, its id without the hooks (0 if v is not a ref). */
uint64_t mt_value_ref_id(const manta_value *v);

#endif
