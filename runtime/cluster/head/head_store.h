/*
 * The head's durable store (docs/head-store.md): what must outlive the head
 * process (the node table, named actors and their hosts, placement groups,
 * Serve routes)
 * kept in a store built for it, Redis today.
 *
 * The directory never waits on the network for it: a change is recorded in
 * memory (a mirror of what the store should hold) and a writer thread
 * carries it to the store. When the store fails, the head keeps running on
 * its memory, says so (log, ClusterStatus), and writes again once the store
 * answers: its whole state at once, since a store that came back may have
 * lost what it had.
 *
 * Two parts: this generic one (head_store.c: the mirror, the writer, the
 * status) and a backend per kind of store behind mt_store_backend
 * (head_store_redis.c, the only file that includes hiredis). An etcd
 * backend would be one more file and one more line in mt_head_store_open.
 */
#ifndef MT_HEAD_STORE_H
#define MT_HEAD_STORE_H

#include "manta/v1/cluster_wire.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The tables: each is a set of records, key -> bytes (a packed message). */
typedef enum mt_store_table {
  MT_STORE_NODES = 0,  /* node id (hex) -> NodeInfo */
  MT_STORE_ACTORS = 1, /* actor name -> NamedActor (complete ones) */
  MT_STORE_PGS = 2,    /* group id (hex) -> PlacementGroup */
  MT_STORE_ROUTES = 3, /* Serve route -> ServeRoute */
  MT_STORE_NTABLES = 4
} mt_store_table;

/* One record; data NULL means "deleted". */
typedef struct mt_store_record {
  int table;
  const char *key;
  const uint8_t *data;
  size_t len;
} mt_store_record;

/* ---- a backend: one kind of store ---------------------------------------- */

typedef struct mt_store_backend {
  const char *scheme; /* the URL's, e.g. "redis" */
  /* Reads the URL (no network): a connection object, or NULL with why.
   * prefix is the cluster's key prefix; password may be NULL. The URL
   * shown in logs and status (never a password) goes to shown. */
  void *(*parse)(const char *url, const char *prefix, const char *password,
                 char *shown, size_t shown_size, char *why, size_t size);
  /* (Re)connects; false with why. */
  bool (*connect)(void *c, char *why, size_t size);
  /* Calls fn for every record stored; false with why. */
  bool (*load)(void *c,
               void (*fn)(void *ctx, int table, const char *key,
                          const uint8_t *data, size_t len),
               void *ctx, char *why, size_t size);
  /* Writes records (deletes those without data) atomically; with
   * replace_all, the tables become exactly these records. False with why
   * (the connection is then closed; connect opens it again). */
  bool (*write)(void *c, const mt_store_record *r, size_t n, bool replace_all,
                char *why, size_t size);
  void (*close)(void *c);
  /* Optional (NULL: nothing decides between two heads on one store).
   * Takes or renews the store's lease for ttl_ms: *incarnation is this
   * head's (0 before it first held the lease; a new one is numbered on a
   * first take, or on a take after this head's lease expired with no
   * other head having held it since). stale (NULL: none) is a lease
   * value known to belong to a dead head (its address is free again): a
   * lease holding exactly it is taken as if absent. 1: held, *incarnation
   * set; 0: held by another head, or taken by one since (holder says
   * which, as "INCARNATION ADDRESS" or why); -1: failed, with why. While a
   * lease is
   * held, write() is fenced: it writes nothing unless the store's lease
   * is still this incarnation's, so a head paused past its lease cannot
   * overwrite its successor's state. */
  int (*lease)(void *c, int64_t *incarnation, const char *address,
               const char *stale, int64_t ttl_ms, char *holder,
               size_t holder_size, char *why, size_t size);
} mt_store_backend;

extern const mt_store_backend mt_store_redis;

/* ---- the store, as the directory uses it --------------------------------- */

typedef struct mt_head_store mt_head_store;

/* Parses url (redis://host:port[/db]) and connects; the cluster's name
 * makes the key prefix. The password, if any, comes from the file named
 * by MANTA_STORE_PASSWORD_FILE or from MANTA_STORE_PASSWORD. NULL with
 * why (a bad URL, an unreachable store). */
mt_head_store *mt_head_store_open(const char *url, const char *cluster_name,
                                  char *why, size_t size);
/* The same with a backend chosen by the caller (tests; a new backend
 * before it is listed in mt_head_store_open). */
mt_head_store *mt_head_store_open_with(const mt_store_backend *be,
                                       const char *url,
                                       const char *cluster_name, char *why,
                                       size_t size);
/* Reads every record (at start, before serving); the records read are
 * taken as written. False with why. */
bool mt_head_store_load(mt_head_store *s,
                        void (*fn)(void *ctx, int table, const char *key,
                                   const uint8_t *data, size_t len),
                        void *ctx, char *why, size_t size);
/* Takes the store's lease for the head at address (before load): while
 * another live head holds it, waits as a standby (logs so, tries every
 * third of the lease time) until that lease expires. A lease held at this
 * very address by a head that no longer listens there (a head restarted
 * on its port after it died) is taken at once. False with why when
 * the store cannot be used at first. A backend without leases: true at
 * once. The lease time is MANTA_HEAD_LEASE_MS (5000 by default). */
bool mt_head_store_acquire(mt_head_store *s, const char *address, char *why,
                           size_t size);
/* The address written with the lease from its next renewal on (once the
 * head's server runs and its port is known). */
void mt_head_store_set_address(mt_head_store *s, const char *address);
/* True once another head took the lease: this head writes nothing more;
 * why names the head holding it. */
bool mt_head_store_fenced(mt_head_store *s, char *why, size_t size);
/* Starts the writer thread (after load); false on failure. */
bool mt_head_store_start(mt_head_store *s);
/* Records a change (never blocks on the network; a record equal to what
 * is stored is no change). */
void mt_head_store_put(mt_head_store *s, int table, const char *key,
                       const uint8_t *data, size_t len);
void mt_head_store_del(mt_head_store *s, int table, const char *key);
/* Packs m and puts it (out of memory: logged). */
void mt_head_store_put_msg(mt_head_store *s, int table, const char *key,
                           const ProtobufCMessage *m);
/* The table holds exactly these n records (keys[i] -> m[i]) from now. */
void mt_head_store_sync(mt_head_store *s, int table, const char *const *keys,
                        const ProtobufCMessage *const *m, size_t n);
/* Its state for ClusterStatus; strings are copies (free with
 * mt_head_store_status_free). */
void mt_head_store_status(mt_head_store *s, Manta__V1__HeadStore *out);
void mt_head_store_status_free(Manta__V1__HeadStore *st);
/* Writes what waits (for at most a couple of seconds), stops the writer,
 * frees everything. NULL is fine. */
void mt_head_store_close(mt_head_store *s);

#endif
