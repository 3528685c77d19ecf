/*
 * manta.h — the one public header of manta, a task and actor runtime.
 *
 * Everything a program (or a language binding) can do with manta goes through
 * the functions declared here. The header compiles as C99 and as C++.
 *
 * ABI promise: within one major version (MANTA_VERSION_MAJOR, also the
 * soname: libmanta.so.0) functions are only added, enums only grow, and no
 * public struct changes layout. See docs/abi.md.
 *
 * Ownership rules, used by every function below:
 *  - A function that returns a `manta_value *` through an out-parameter or as
 *    its result gives the caller one reference; release it with
 *    manta_value_free().
 *  - A function that stores a value *into a container* (list push, map put,
 *    error cause) takes the caller's reference: do not free it afterwards.
 *  - A function that only reads a value (submit, put, accessors) borrows it.
 *  - Accessors that return `const manta_value *` lend a view that lives as
 *    long as the container it came from.
 *  - Refs (manta_ref) and actor handles (manta_actor) are counted ids, not
 *    pointers: every one the runtime hands out must be released once with
 *    manta_ref_release() / manta_actor_release(). A stale or forged id gives
 *    MANTA_ERR_BAD_HANDLE, never a crash.
 */
#ifndef MANTA_H
#define MANTA_H

#include <stddef.h>
#include <stdint.h>

#define MANTA_VERSION_MAJOR 0
#define MANTA_VERSION_MINOR 1
#define MANTA_VERSION_PATCH 0
#define MANTA_VERSION_NUMBER                                                   \
  ((MANTA_VERSION_MAJOR * 10000) + (MANTA_VERSION_MINOR * 100) +               \
   MANTA_VERSION_PATCH)

#if defined(_WIN32)
#if defined(MANTA_BUILDING)
#define MANTA_API __declspec(dllexport)
#else
#define MANTA_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define MANTA_API __attribute__((visibility("default")))
#else
#define MANTA_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The one table of errors: name, value, message. Values are explicit and
 * append-only; a value is never reused. The same codes are the "kind" of an
 * error value (see manta_error_code()).
 */
#define MANTA_ERROR_MAP(XX)                                                    \
  XX(MANTA_OK, 0, "ok")                                                        \
  XX(MANTA_ERR_INVALID, 1, "invalid argument")                                 \
  XX(MANTA_ERR_NOMEM, 2, "out of memory")                                      \
  XX(MANTA_ERR_NOT_INITIALIZED, 3, "the runtime is not initialized")           \
  XX(MANTA_ERR_ALREADY_INITIALIZED, 4, "the runtime is already initialized")   \
  XX(MANTA_ERR_BAD_HANDLE, 5, "stale or unknown handle")                       \
  XX(MANTA_ERR_TIMEOUT, 6, "timed out")                                        \
  XX(MANTA_ERR_NOT_FOUND, 7, "no such name")                                   \
  XX(MANTA_ERR_EXISTS, 8, "name already registered")                           \
  XX(MANTA_ERR_TYPE, 9, "wrong value type")                                    \
  XX(MANTA_ERR_ARITY, 10, "wrong number of arguments")                         \
  XX(MANTA_ERR_TASK_FAILED, 11, "task failed")                                 \
  XX(MANTA_ERR_CANCELLED, 12, "cancelled")                                     \
  XX(MANTA_ERR_ACTOR_DEAD, 13, "actor is dead")                                \
  XX(MANTA_ERR_INFEASIBLE, 14, "resource request can never be satisfied")      \
  XX(MANTA_ERR_TOO_DEEP, 15, "value nesting exceeds the depth limit")          \
  XX(MANTA_ERR_MALFORMED, 16, "malformed encoding")                            \
  XX(MANTA_ERR_FROZEN, 17, "value is immutable once shared")                   \
  XX(MANTA_ERR_RANGE, 18, "index out of range")                                \
  XX(MANTA_ERR_DEPENDENCY, 19, "a dependency failed")                          \
  XX(MANTA_ERR_SHUTDOWN, 20, "the runtime is shutting down")                   \
  XX(MANTA_ERR_OBJECT_LOST, 21, "object lost")                                 \
  XX(MANTA_ERR_NODE_DIED, 22, "node died")                                     \
  XX(MANTA_ERR_INTERNAL, 23, "internal error")                                 \
  XX(MANTA_ERR_OBJECT_STORE_FULL, 24, "object store full")                     \
  XX(MANTA_ERR_STREAM_END, 25, "the stream ended")

typedef enum manta_err {
#define MANTA_ERR_ENUM_(name, value, msg) name = value,
  MANTA_ERROR_MAP(MANTA_ERR_ENUM_)
#undef MANTA_ERR_ENUM_
} manta_err;

/* A static message for a code; "unknown error" for codes not in the table. */
MANTA_API const char *manta_strerror(manta_err err);
/* The enumerator's name ("MANTA_ERR_TIMEOUT"); "MANTA_ERR_UNKNOWN" if none. */
MANTA_API const char *manta_errname(manta_err err);

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/* MANTA_VERSION_NUMBER of the library actually loaded. */
MANTA_API unsigned manta_version(void);
/* "0.1.0" */
MANTA_API const char *manta_version_string(void);

/* Frees memory the library handed out as raw bytes (manta_value_encode). */
MANTA_API void manta_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * A value is what tasks take and return and what objects hold: the
 * language-neutral value of proto/manta/v1/value.proto. Values are built
 * mutable; once shared with the runtime (put, submitted as an argument,
 * returned from a task) a value is frozen and any further mutation returns
 * MANTA_ERR_FROZEN. Values are reference counted and safe to read from many
 * threads once frozen.
 */
typedef struct manta_value manta_value;

typedef enum manta_kind {
  MANTA_KIND_NULL = 0,
  MANTA_KIND_BOOL = 1,
  MANTA_KIND_INT = 2,
  MANTA_KIND_DOUBLE = 3,
  MANTA_KIND_STRING = 4,
  MANTA_KIND_BYTES = 5,
  MANTA_KIND_LIST = 6,
  MANTA_KIND_MAP = 7,
  MANTA_KIND_REF = 8,
  MANTA_KIND_ACTOR = 9,
  MANTA_KIND_ERROR = 10
} manta_kind;

/* A ref names an immutable object. It is a counted id, not a pointer. */
typedef struct manta_ref {
  uint64_t id;
} manta_ref;

/* A handle to one actor. It is a counted id, not a pointer. */
typedef struct manta_actor {
  uint64_t id;
} manta_actor;

/* Deepest nesting of lists/maps/errors a value may have (encode and decode). */
#define MANTA_MAX_DEPTH 100

/* Constructors. Each returns NULL when memory runs out or when given NULL
 * data with a non-zero length. */
MANTA_API manta_value *manta_null(void);
MANTA_API manta_value *manta_bool(int b);
MANTA_API manta_value *manta_int(int64_t i);
MANTA_API manta_value *manta_double(double d);
/* Copies `len` bytes; the string need not be NUL-terminated. */
MANTA_API manta_value *manta_string(const char *s, size_t len);
/* Copies a NUL-terminated string. */
MANTA_API manta_value *manta_cstring(const char *s);
/* Copies `len` bytes. */
MANTA_API manta_value *manta_bytes(const void *data, size_t len);
/*
 * Wraps `data` without copying; `release(data, arg)` runs when the last
 * reference goes (release may be NULL for static data). On failure (NULL
 * returned) release is NOT called: the buffer stays the caller's.
 */
MANTA_API manta_value *manta_bytes_wrap(void *data, size_t len,
                                        void (*release)(void *data, void *arg),
                                        void *arg);
MANTA_API manta_value *manta_list(void);
MANTA_API manta_value *manta_map(void);
/* A value holding a ref; takes a new count on the ref (caller keeps its own).
 */
MANTA_API manta_value *manta_ref_value(manta_ref ref);
/* A value holding an actor handle; takes a new count on the handle. */
MANTA_API manta_value *manta_actor_value(manta_actor actor);
/*
 * An error value: a kind (a manta_err code), a message (printf format) and
 * optionally where it happened (function, actor method, node). Task functions
 * fail by returning one of these.
 */
MANTA_API manta_value *manta_error(manta_err code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Adds one reference; returns v. */
MANTA_API manta_value *manta_value_ref(manta_value *v);
/* Drops one reference; frees the value with the last. NULL is ignored. */
MANTA_API void manta_value_free(manta_value *v);

/* Mutation of lists and maps; both take ownership of `item`, even on error. */
MANTA_API manta_err manta_list_push(manta_value *list, manta_value *item);
/* Inserts or replaces `key` (copied). Maps keep insertion order. */
MANTA_API manta_err manta_map_put(manta_value *map, const char *key,
                                  manta_value *item);
/* Attaches the error that caused `err` (takes ownership of `cause`). */
MANTA_API manta_err manta_error_set_cause(manta_value *err, manta_value *cause);
/* Sets where an error happened, e.g. "function levenshtein on node 3f2a". */
MANTA_API manta_err manta_error_set_origin(manta_value *err,
                                           const char *origin);

/* Readers. A reader given the wrong kind returns MANTA_ERR_TYPE. */
MANTA_API manta_kind manta_value_kind(const manta_value *v);
MANTA_API const char *manta_kind_name(manta_kind kind);
MANTA_API manta_err manta_get_bool(const manta_value *v, int *out);
MANTA_API manta_err manta_get_int(const manta_value *v, int64_t *out);
MANTA_API manta_err manta_get_double(const manta_value *v, double *out);
/* String and bytes: a view valid while v lives. Strings are NUL-terminated. */
MANTA_API manta_err manta_get_string(const manta_value *v, const char **s,
                                     size_t *len);
MANTA_API manta_err manta_get_bytes(const manta_value *v, const void **data,
                                    size_t *len);
/* Element count of a list or a map. */
MANTA_API manta_err manta_len(const manta_value *v, size_t *len);
MANTA_API manta_err manta_list_at(const manta_value *list, size_t i,
                                  const manta_value **item);
MANTA_API manta_err manta_map_at(const manta_value *map, size_t i,
                                 const char **key, const manta_value **item);
MANTA_API manta_err manta_map_find(const manta_value *map, const char *key,
                                   const manta_value **item);
/* The ref inside a ref value, borrowed (do not release it). */
MANTA_API manta_err manta_get_ref(const manta_value *v, manta_ref *out);
/* The actor handle inside an actor value, borrowed (do not release it). */
MANTA_API manta_err manta_get_actor(const manta_value *v, manta_actor *out);
/* Error parts. message and origin are never NULL (maybe ""); cause may be.
 * manta_error_code returns MANTA_ERR_TYPE for a value that is not an error:
 * check manta_value_kind first when that matters. */
MANTA_API manta_err manta_error_code(const manta_value *err);
MANTA_API const char *manta_error_message(const manta_value *err);
MANTA_API const char *manta_error_origin(const manta_value *err);
MANTA_API const manta_value *manta_error_cause(const manta_value *err);

/* Deep equality: refs and actors compare by id, doubles bitwise, maps by
 * their key/value pairs whatever the insertion order. */
MANTA_API int manta_value_equal(const manta_value *a, const manta_value *b);
/*
 * A human-readable rendering ("[0, 1, 3]", "{\"a\": 1}", "error(...)").
 * Returns a NUL-terminated string to free with manta_free(), or NULL.
 */
MANTA_API char *manta_value_repr(const manta_value *v);

/*
 * The protobuf encoding of proto/manta/v1/value.proto (message Value).
 * encode: *buf is malloc'd, free it with manta_free(). Fails with
 * MANTA_ERR_TOO_DEEP beyond MANTA_MAX_DEPTH.
 * decode: MANTA_ERR_MALFORMED for bad bytes, MANTA_ERR_TOO_DEEP for nesting
 * beyond MANTA_MAX_DEPTH. A ref is decoded to a counted ref of this process.
 */
MANTA_API manta_err manta_value_encode(const manta_value *v, void **buf,
                                       size_t *len);
MANTA_API manta_err manta_value_decode(const void *buf, size_t len,
                                       manta_value **out);

/* ------------------------------------------------------------------------ */
/* Runtime                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct manta_options manta_options;

MANTA_API manta_err manta_options_new(manta_options **out);
MANTA_API void manta_options_free(manta_options *opts);
/* CPU slots of this node; default: the number of online cores. */
MANTA_API manta_err manta_options_set_num_cpus(manta_options *opts,
                                               double num_cpus);
/* A custom resource, e.g. ("GPU", 2) or ("db_conn", 4). */
MANTA_API manta_err manta_options_set_resource(manta_options *opts,
                                               const char *name, double qty);
/*
 * Most worker threads the node may run at once, counting those started to
 * replace workers blocked in get/wait (default 1024).
 */
MANTA_API manta_err manta_options_set_max_workers(manta_options *opts,
                                                  unsigned max_workers);

/*
 * The cluster to join: "HOST:PORT" of its head node, or a comma-separated
 * list of heads ("h1:6390,h2:6390", at most 8): the first that answers is
 * used, and the next ones when it stops answering (a standby head on the
 * same store, docs/head-store.md). NULL (the default) means MANTA_ADDRESS
 * decides; with neither the runtime is embedded.
 */
MANTA_API manta_err manta_options_set_address(manta_options *opts,
                                              const char *address);

/* What this process is in a cluster. */
typedef enum manta_role {
  MANTA_ROLE_DRIVER = 0, /* a program that joined (the default) */
  MANTA_ROLE_NODE = 1,   /* a node that serves others (`manta start`) */
  MANTA_ROLE_HEAD = 2    /* a node that also runs the cluster's directory */
} manta_role;

/* MANTA_ROLE_HEAD starts a cluster (no address needed); the other roles
 * matter only when joining one. */
MANTA_API manta_err manta_options_set_role(manta_options *opts,
                                           manta_role role);
/*
 * Where this node listens for other nodes, "HOST:PORT" (default
 * "127.0.0.1:0": loopback, any free port). A host other than loopback
 * needs a cluster token given on purpose and TLS (manta_options_set_tls),
 * or manta_options_set_insecure to carry calls in clear text.
 */
MANTA_API manta_err manta_options_set_bind(manta_options *opts,
                                           const char *host_port);
/*
 * Serve Prometheus metrics over HTTP at /metrics on this port of the bind
 * host (manta_options_set_bind; loopback by default): 0 is any free port
 * (manta_metrics_port says which), -1 (the default) none, unless the
 * environment variable MANTA_METRICS_PORT names a port. As for gRPC, a
 * host beyond loopback needs a cluster token and every request must then
 * carry it (`Authorization: Bearer TOKEN`). A port that cannot be opened
 * fails manta_init with MANTA_ERR_INVALID (the log says why).
 * MANTA_ERR_INVALID for a port outside -1..65535. docs/observability.md.
 */
MANTA_API manta_err manta_options_set_metrics_port(manta_options *opts,
                                                   int port);
/*
 * The cluster token every call must carry. Without one manta_init looks in
 * MANTA_TOKEN, then the file MANTA_TOKEN_FILE names, then the state folder
 * (manta_state_dir) for the token file a head of this user made; a head
 * that finds none makes one there. A token has 16 to 4096 printable ASCII
 * bytes, not only spaces: MANTA_ERR_INVALID otherwise (the log says why).
 * NULL or "" clears it.
 */
MANTA_API manta_err manta_options_set_token(manta_options *opts,
                                            const char *token);
/*
 * The cluster token, read now from the file at path: a regular file that
 * no one but its owner may read or write (mode 0600 or 0400), holding the
 * token and at most one trailing newline. MANTA_ERR_INVALID if the file is
 * missing, open to others, or holds an invalid token (the log says why).
 */
MANTA_API manta_err manta_options_set_token_file(manta_options *opts,
                                                 const char *path);
/*
 * TLS on every gRPC link of this process (docs/security.md, "TLS"): its
 * certificate and private key (PEM files; the certificate must name
 * "manta", the name every node checks whatever address it dials) and the
 * CA that signs the cluster's certificates. With a CA, the node's server
 * demands a client certificate signed by it (mutual TLS) and the node
 * checks the servers it calls against it; without one, servers take any
 * client and are checked against the system's roots. The files are read
 * now: MANTA_ERR_INVALID (the log says why) if one is missing or not PEM,
 * if only one of cert and key is given, or if the key file may be read by
 * other users (it must be mode 0600 or 0400, like token files). Any path
 * may be NULL; all three NULL turns TLS off. Default: MANTA_TLS_CERT,
 * MANTA_TLS_KEY, MANTA_TLS_CA (paths); with none, calls are cleartext.
 */
MANTA_API manta_err manta_options_set_tls(manta_options *opts,
                                          const char *cert_path,
                                          const char *key_path,
                                          const char *ca_path);
/*
 * Allows a bind beyond loopback without TLS (insecure != 0): calls and the
 * token then cross the network in clear text, which manta_init logs as a
 * warning. Default: MANTA_INSECURE=1 allows it; otherwise such a bind
 * without TLS fails manta_init with MANTA_ERR_INVALID.
 */
MANTA_API manta_err manta_options_set_insecure(manta_options *opts,
                                               int insecure);
/*
 * The most bytes of object data (string and bytes payloads) this node's
 * object table keeps in memory. Beyond it, ready objects that no one is
 * reading are spilled to files in the spill folder and read back when
 * needed; when nothing can be spilled, manta_put and task results wait up
 * to the store-full timeout, then fail with MANTA_ERR_OBJECT_STORE_FULL.
 * 0 means no limit. Default: MANTA_OBJECT_STORE_MEMORY (bytes, or with a
 * KiB/MiB/GiB/KB/MB/GB suffix), else 30% of the memory available at
 * manta_init (docs/fault-tolerance.md, "Bounded object memory").
 */
MANTA_API manta_err manta_options_set_object_store_memory(manta_options *opts,
                                                          uint64_t bytes);
/*
 * The folder spilled objects go to; this node makes its own folder inside
 * it (mode 0700) and removes it at shutdown. NULL: MANTA_SPILL_DIR, else
 * the state folder (manta_state_dir).
 */
MANTA_API manta_err manta_options_set_spill_dir(manta_options *opts,
                                                const char *path);
/*
 * How long manta_put and a task's result wait for object memory to be
 * freed when nothing can be spilled, before MANTA_ERR_OBJECT_STORE_FULL
 * (default: MANTA_OBJECT_STORE_FULL_TIMEOUT_MS, else 5000 ms).
 */
MANTA_API manta_err manta_options_set_object_store_full_timeout(
    manta_options *opts, int64_t timeout_ms);

/*
 * A head's durable store (docs/head-store.md): with role MANTA_ROLE_HEAD,
 * the head keeps its node table, named actors and placement groups in the
 * store at url (redis://host:port[/db]) under keys of cluster_name (NULL:
 * MANTA_CLUSTER_NAME, else "default"), and a head started on the same
 * store resumes from them. url NULL: MANTA_HEAD_STORE, else none (the
 * head's state lives in its memory only). A password comes from the file
 * MANTA_STORE_PASSWORD_FILE or MANTA_STORE_PASSWORD, never the URL. A URL
 * that cannot be read or a store that does not answer fails manta_init
 * with MANTA_ERR_INVALID, the log saying why.
 */
MANTA_API manta_err manta_options_set_head_store(manta_options *opts,
                                                 const char *url,
                                                 const char *cluster_name);

/*
 * A module (see "Modules") for manta_init to load before the node joins or
 * starts a cluster, so that its first registration already offers what the
 * module registers. Repeatable; a module that fails to load fails
 * manta_init.
 */
MANTA_API manta_err manta_options_add_module(manta_options *opts,
                                             const char *path);

/*
 * Starts the runtime of this process. With no cluster address (neither in
 * the options nor in MANTA_ADDRESS) it is an embedded one-node runtime that
 * opens no port. opts may be NULL. MANTA_ERR_ALREADY_INITIALIZED if running.
 */
MANTA_API manta_err manta_init(const manta_options *opts);
/*
 * Stops the runtime: pending tasks resolve to MANTA_ERR_SHUTDOWN, running
 * ones are waited for, every thread is joined and every object freed. Refs
 * and actor handles held by the program become stale. Must not be called
 * from inside a task. After it returns, manta_init may be called again.
 */
MANTA_API manta_err manta_shutdown(void);
MANTA_API int manta_is_initialized(void);
/* "HOST:PORT" where this node serves the cluster (buf of >= 64 bytes);
 * MANTA_ERR_NOT_FOUND when the runtime is embedded. */
MANTA_API manta_err manta_node_address(char *buf, size_t size);
/* This node's id, 16 hex digits and a NUL (buf of >= 17 bytes, else
 * MANTA_ERR_RANGE), embedded too: what a node affinity names. It is new at
 * each manta_init. */
MANTA_API manta_err manta_node_id(char *buf, size_t size);
/*
 * Asks the head at address ("HOST:PORT") for the state of its cluster,
 * without joining it: a map with "head" (node id), "nodes" (a list of maps:
 * node_id, address, state, is_head, is_driver, pid, hostname, resources
 * {name: {total, available}}, functions, classes, tasks_queued,
 * tasks_running, tasks_finished, actors, last_heartbeat_ms) and "actors"
 * (named actors). token may be NULL: then it is found as manta_init finds
 * it (MANTA_TOKEN, MANTA_TOKEN_FILE, the state folder's token). On failure
 * *out is an error value saying why. Needs no manta_init.
 */
MANTA_API manta_err manta_cluster_status(const char *address, const char *token,
                                         int64_t timeout_ms, manta_value **out);
/*
 * manta_cluster_status with options: the token and TLS files set in opts
 * (manta_options_set_token, _set_token_file, _set_tls), each found as
 * manta_init finds it when not set there (a CA alone is enough to reach a
 * head that does not demand client certificates). opts may be NULL.
 */
MANTA_API manta_err manta_cluster_status_with(const char *address,
                                              const manta_options *opts,
                                              int64_t timeout_ms,
                                              manta_value **out);

/*
 * The folder of this user's local state, into buf: $MANTA_STATE_DIR, default
 * /tmp/manta-<uid>. `manta start` keeps its pid files there and a head its
 * token file. Created mode 0700 if missing; MANTA_ERR_INVALID unless it is
 * a directory (not a symlink), owned by this user and writable by no one
 * else (or if buf is too small). On failure *error (if error is not NULL)
 * is an error value saying why. Needs no manta_init.
 */
MANTA_API manta_err manta_state_dir(char *buf, size_t size,
                                    manta_value **error);
/*
 * Reads a cluster token from the file at path (the rules of
 * manta_options_set_token_file) into buf. On failure *error (if error is
 * not NULL) is an error value saying why. Needs no manta_init.
 */
MANTA_API manta_err manta_token_from_file(const char *path, char *buf,
                                          size_t size, manta_value **error);

/* ------------------------------------------------------------------------ */
/* Functions and tasks                                                       */
/* ------------------------------------------------------------------------ */

/*
 * A task function. It reads its arguments (borrowed; refs given at the top
 * level arrive as their values) and returns its result: a new value whose
 * reference passes to the runtime, NULL meaning the null value. To fail, it
 * returns an error value (manta_error()).
 */
typedef manta_value *(*manta_function)(const manta_value *const *args,
                                       size_t nargs, void *user_data);

/*
 * Registers `fn` under `name`. nargs_expected < 0 accepts any count;
 * otherwise a call with another count resolves to MANTA_ERR_ARITY without
 * running fn. MANTA_ERR_EXISTS if the name is taken.
 */
MANTA_API manta_err manta_register_function(const char *name, manta_function fn,
                                            int nargs_expected,
                                            void *user_data);

/* Options of one call: a task submission or an actor creation. */
typedef struct manta_call_options manta_call_options;

MANTA_API manta_err manta_call_options_new(manta_call_options **out);
MANTA_API void manta_call_options_free(manta_call_options *opts);
/* CPU slots the task (or the actor, for its lifetime) holds; default 1 for
 * tasks and 0 for actors. */
MANTA_API manta_err manta_call_options_set_num_cpus(manta_call_options *opts,
                                                    double num_cpus);
MANTA_API manta_err manta_call_options_set_resource(manta_call_options *opts,
                                                    const char *name,
                                                    double qty);
/* Actors only: a name to find the actor by (manta_actor_lookup). */
MANTA_API manta_err manta_call_options_set_name(manta_call_options *opts,
                                                const char *name);
/* Actors only: how many method calls may run at once (default 1). */
MANTA_API manta_err manta_call_options_set_max_concurrency(
    manta_call_options *opts, unsigned max_concurrency);
/* Actors only, in a cluster: how many times the actor is created again
 * (its constructor run again with the same arguments; its state is lost)
 * on another node offering its class when the node it lives on dies, as
 * the node affinity or placement group bundle of its creation allows. A
 * restart whose constructor fails counts as one. Default 0: never; -1:
 * with no end. Calls made meanwhile wait for the new instance, through
 * every handle (other processes' too). docs/fault-tolerance.md, "Actor
 * restarts". */
MANTA_API manta_err
manta_call_options_set_max_restarts(manta_call_options *opts, int max_restarts);
/* Actors only, in a cluster: how many times a call that was sent to the
 * actor and lost with its node is sent again to the restarted actor
 * (at-least-once; in order per caller). Default 0: it fails with
 * MANTA_ERR_ACTOR_DEAD; -1: with no end. */
MANTA_API manta_err manta_call_options_set_max_task_retries(
    manta_call_options *opts, int max_task_retries);

/*
 * Where a call runs (an actor: where it is created; it stays there). See
 * docs/scheduling.md. Embedded, there is one node and every strategy runs
 * the call on it, except a hard affinity to another node, which fails.
 */
typedef enum manta_strategy {
  /* This node while it is not busy, else the least loaded node that can
   * run the call (the default). */
  MANTA_STRATEGY_DEFAULT = 0,
  /* Round-robin over the nodes that can run the call, this node included
   * when it can: 100 tasks over 4 such nodes run 25 on each. */
  MANTA_STRATEGY_SPREAD = 1,
  /* On one named node: set with manta_call_options_set_node_affinity. */
  MANTA_STRATEGY_NODE_AFFINITY = 2
} manta_strategy;

/* MANTA_STRATEGY_DEFAULT or MANTA_STRATEGY_SPREAD (replacing a node
 * affinity); MANTA_ERR_INVALID for any other value, including
 * MANTA_STRATEGY_NODE_AFFINITY, which needs a node. */
MANTA_API manta_err manta_call_options_set_strategy(manta_call_options *opts,
                                                    manta_strategy strategy);
/*
 * Runs the call on the node node_id (16 hex digits, as manta_node_id
 * writes them and manta_cluster_status lists them). If that node is not
 * alive in the cluster, does not offer the function (or class), or can
 * never fit the call's resources: with soft != 0 the call is placed as by
 * MANTA_STRATEGY_DEFAULT instead; with soft == 0 its ref (an actor: every
 * call) resolves to an error naming the node and why (MANTA_ERR_NOT_FOUND,
 * MANTA_ERR_NODE_DIED or MANTA_ERR_INFEASIBLE). MANTA_ERR_INVALID if
 * node_id is not 1 to 16 hex digits or is zero.
 */
MANTA_API manta_err manta_call_options_set_node_affinity(
    manta_call_options *opts, const char *node_id, int soft);

/*
 * Submits a call of the function `name`. Arguments are borrowed (and frozen).
 * An argument that is a ref value is a dependency: the task starts once the
 * object is ready and receives its value; a ref nested inside a list or map is
 * passed as a ref. opts may be NULL.
 *
 * Failures of the call itself (unknown function, wrong argument count, a
 * failed dependency, resources no node has) are not returned here: the ref
 * resolves to an error value, as it would for a task running elsewhere.
 */
MANTA_API manta_err manta_submit(const char *name,
                                 const manta_value *const *args, size_t nargs,
                                 const manta_call_options *opts,
                                 manta_ref *out);

/*
 * Several return values. A call declared with num_returns N (1 to 65536,
 * default 1) gives N refs, each ready on its own: the function returns a list
 * of N values and ref i resolves to item i. A function that returns an error,
 * or a call that fails, fails all N refs with that error; a list of
 * another length, or a value that is not a list, fails all N with
 * MANTA_ERR_TYPE naming what came. manta_submit refuses num_returns > 1
 * (MANTA_ERR_INVALID): use manta_submit_returns, whose out has room for
 * exactly n refs, n the call's num_returns (1 if opts is NULL or unset).
 * With num_returns 1 the one ref holds the value as returned (no list).
 * The refs are plain refs: dependencies, get, wait, when_ready, release.
 * manta_cancel on them is refused (MANTA_ERR_INVALID).
 */
MANTA_API manta_err manta_call_options_set_num_returns(manta_call_options *opts,
                                                       size_t num_returns);
MANTA_API manta_err manta_submit_returns(const char *name,
                                         const manta_value *const *args,
                                         size_t nargs,
                                         const manta_call_options *opts,
                                         manta_ref *out, size_t n);

/* Cancels a task or an actor call: manta_cancel_with(ref, 0), below. */
MANTA_API manta_err manta_cancel(manta_ref ref);

/* ---- Cancelling running work, retries, runtime context ------------------
 * (docs/api.md, "Cancelling work", "Retries", "Runtime context") */

/* manta_cancel_with flag: also cancel the calls the task submitted while it
 * ran, and theirs, on whatever node they run. */
#define MANTA_CANCEL_RECURSIVE 1u

/*
 * Cancels the call that makes ref's object, wherever it runs:
 *  - not started (a task queued or waiting for its arguments, an actor
 *    call in its actor's mailbox): it never runs and its ref resolves to
 *    MANTA_ERR_CANCELLED (an actor's later calls still run, in order);
 *  - running: its cancel flag is set (manta_cancelled() turns 1, handlers
 *    set with manta_on_cancel run); the function decides when to stop, and
 *    its ref resolves to MANTA_ERR_CANCELLED once it returns, whatever it
 *    returned. With MANTA_CANCEL_RECURSIVE the calls it submitted are
 *    cancelled the same way (transitively).
 * A call sent to another node is cancelled there (the ref resolves when
 * that node answers); a call cancelled there is not sent again when that
 * node is lost (it resolves to MANTA_ERR_CANCELLED), and a cancelled call's
 * ref is MANTA_ERR_CANCELLED whatever the size of what it returned.
 * MANTA_ERR_INVALID when there is nothing to cancel:
 * done already, a put object, an actor creation, a part of several return
 * values; MANTA_ERR_BAD_HANDLE for a stale ref; MANTA_ERR_INVALID for
 * unknown flags.
 */
MANTA_API manta_err manta_cancel_with(manta_ref ref, unsigned flags);
/*
 * Cancels the creation of an actor whose constructor has not started (its
 * creation waits for its arguments, for a CPU slot or its placement group,
 * or, for an actor placed on another node, has not been sent there yet):
 * the constructor never runs, the actor is dead, its name (if any) is
 * free again, and its calls resolve to MANTA_ERR_ACTOR_DEAD "actor C was
 * not created: its creation was cancelled before its constructor ran",
 * whose cause is MANTA_ERR_CANCELLED. MANTA_ERR_INVALID once the
 * constructor started or ran, or the creation went to another node (end
 * those with manta_actor_kill); MANTA_ERR_BAD_HANDLE for a stale handle.
 */
MANTA_API manta_err manta_actor_cancel(manta_actor actor);
/* Inside a task or actor method: 1 once it was cancelled, else 0 (0 on a
 * thread running no task). Costs an atomic load: poll it in loops. */
MANTA_API int manta_cancelled(void);
/* What manta_on_cancel calls. */
typedef void (*manta_cancel_fn)(void *arg);
/*
 * Inside a task or actor method: fn(arg) is called once when the call is
 * cancelled while it runs (at once, on this thread, if it was already),
 * else on the thread that cancels it (a program thread, or a cluster
 * thread for a cancel from another node) without the runtime's locks. It
 * may be called after the call returned, so arg must stay meaningful (a
 * token rather than a pointer into the call's stack). One handler per
 * call: a second replaces the first; fn NULL removes it. MANTA_ERR_INVALID
 * outside a task.
 */
MANTA_API manta_err manta_on_cancel(manta_cancel_fn fn, void *arg);

/*
 * Retries. max_retries: how many times a task runs again after the node
 * running it died (default 3; 0 never; -1 with no end). With
 * retry_exceptions != 0 (default 0) a task whose function returned an
 * error value runs again too, up to the same count in all. The final
 * error's message ends "(attempt K of N on node WHERE)": how many attempts
 * were made, of how many allowed, and the node of the last. Tasks only;
 * actors have max_restarts and max_task_retries. MANTA_ERR_INVALID for
 * max_retries < -1.
 */
MANTA_API manta_err manta_call_options_set_max_retries(manta_call_options *opts,
                                                       int max_retries);
MANTA_API manta_err
manta_call_options_set_retry_exceptions(manta_call_options *opts, int retry);

/*
 * Runtime context, inside a task or actor method (MANTA_ERR_NOT_FOUND on a
 * thread running none). The task id is the id of the call's result as its
 * caller's manta_ref_string writes it ("obj-<32 hex digits>", buf of >= 40
 * bytes), the same on every node, for tasks and actor calls alike; the
 * actor id "actor-<32 hex digits>"
 * (buf of >= 40 bytes; MANTA_ERR_NOT_FOUND outside an actor method) is the
 * same wherever a handle to the actor is held. The node is that of the
 * process: manta_node_id and manta_node_address.
 */
MANTA_API manta_err manta_current_task_id(char *buf, size_t size);
MANTA_API manta_err manta_current_actor_id(char *buf, size_t size);
/* The attempt of the running call: 1 for the first run, 2 after one retry,
 * ...; 0 on a thread running no task. */
MANTA_API int manta_current_attempt(void);

/* ------------------------------------------------------------------------ */
/* Objects and refs                                                          */
/* ------------------------------------------------------------------------ */

/* Block forever in get/wait. */
#define MANTA_FOREVER (-1)

/* Stores a value (borrowed, frozen) as an object and gives a ref to it. */
MANTA_API manta_err manta_put(const manta_value *v, manta_ref *out);

/*
 * Waits up to timeout_ms (MANTA_FOREVER: no limit) for the object and gives
 * the caller a reference to its value. On any failure *out is still set: to
 * an error value saying what happened (the task's own error, a timeout, a
 * stale ref), and the return is that error's code. out may be NULL.
 * Called from inside a task, the worker's CPU slot is lent out while blocked,
 * and the wait ends once that task is cancelled: objects not ready then
 * give MANTA_ERR_CANCELLED (at once if it was cancelled before the call).
 */
MANTA_API manta_err manta_get(manta_ref ref, int64_t timeout_ms,
                              manta_value **out);
/*
 * get for n refs. out[i] is set for every i (a value or an error value).
 * Returns MANTA_OK if every object is a plain value, else the code of the
 * first failure in input order.
 */
MANTA_API manta_err manta_get_many(const manta_ref *refs, size_t n,
                                   int64_t timeout_ms, manta_value **out);
/*
 * Waits until num_returns of the refs are ready (holding a value or an
 * error) or the timeout passes. Fills ready[] and not_ready[] (each may hold
 * up to n) with the refs, each list in input order; the refs are the
 * caller's own ids (no new counts). Timing out is not an error here; from
 * inside a task that is cancelled before num_returns are ready, it returns
 * MANTA_ERR_CANCELLED at once, the lists saying what was ready by then.
 */
MANTA_API manta_err manta_wait(const manta_ref *refs, size_t n,
                               size_t num_returns, int64_t timeout_ms,
                               manta_ref *ready, size_t *num_ready,
                               manta_ref *not_ready, size_t *num_not_ready);

/*
 * Completion callbacks: a function called once a ref is ready, so an
 * event-driven program needs no blocked thread per ref.
 *
 * fn(arg, ref, err, value) is called exactly once: err is MANTA_OK and value
 * the object's value, or err is the failure's code and value the error value
 * (the task's own error, MANTA_ERR_SHUTDOWN, ...). value is borrowed for the
 * call (manta_value_ref it to keep it).
 *
 * Where it runs: if the ref is ready already, on the caller's thread before
 * manta_when_ready returns; else on the runtime thread that made it ready (a
 * worker right after the task returned, or a cluster thread when the value
 * arrived from another node), never with the runtime's lock held. It may
 * call any manta function but manta_shutdown (manta_get on its ref returns at
 * once while the program still holds the ref); it must not block long, as
 * it holds up that thread. The runtime keeps the object alive until then,
 * even if the program releases its ref meanwhile.
 *
 * If the runtime shuts down first, fn is called during manta_shutdown (on
 * its thread) with MANTA_ERR_SHUTDOWN; the runtime is then gone, so manta
 * calls from it return MANTA_ERR_NOT_INITIALIZED. Returns MANTA_ERR_INVALID
 * (fn NULL), MANTA_ERR_BAD_HANDLE (stale ref) or MANTA_ERR_NOMEM without
 * calling fn.
 */
typedef void (*manta_ready_fn)(void *arg, manta_ref ref, manta_err err,
                               manta_value *value);
MANTA_API manta_err manta_when_ready(manta_ref ref, manta_ready_fn fn,
                                     void *arg);

/* Takes another count on a ref; *out is the same id. */
MANTA_API manta_err manta_ref_clone(manta_ref ref, manta_ref *out);
/* Drops one count; the object is freed when none is left anywhere. */
MANTA_API manta_err manta_ref_release(manta_ref ref);
/* A printable id of the object ("obj-<32 hex digits>"); buf of >= 40 bytes. */
MANTA_API manta_err manta_ref_string(manta_ref ref, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Actors                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * An actor class: a constructor making the state, methods acting on it, a
 * destructor. The constructor returns the state (any pointer, NULL allowed)
 * or fails by setting *error to an error value.
 */
typedef void *(*manta_actor_ctor)(const manta_value *const *args, size_t nargs,
                                  void *class_data, manta_value **error);
typedef void (*manta_actor_dtor)(void *state, void *class_data);
typedef manta_value *(*manta_method)(void *state,
                                     const manta_value *const *args,
                                     size_t nargs, void *method_data);

MANTA_API manta_err manta_register_class(const char *class_name,
                                         manta_actor_ctor ctor,
                                         manta_actor_dtor dtor,
                                         void *class_data);
/* Adds a method to a registered class. nargs_expected as for functions. */
MANTA_API manta_err manta_register_method(const char *class_name,
                                          const char *method_name,
                                          manta_method fn, int nargs_expected,
                                          void *method_data);

/*
 * Creates an actor of a class. Arguments are borrowed; top-level refs are
 * dependencies as for tasks. An unnamed actor lives until killed or until
 * its last handle is released; a named one until killed or shutdown.
 * Returns MANTA_ERR_EXISTS at once if the name is taken. A constructor
 * failure or an unknown class makes every call resolve to
 * MANTA_ERR_ACTOR_DEAD with the cause attached.
 */
MANTA_API manta_err manta_actor_create(const char *class_name,
                                       const manta_value *const *args,
                                       size_t nargs,
                                       const manta_call_options *opts,
                                       manta_actor *out);
/*
 * Calls a method. Calls made by one thread run in the order it made them.
 * An unknown method resolves to MANTA_ERR_NOT_FOUND; the actor lives on.
 */
MANTA_API manta_err manta_actor_call(manta_actor actor, const char *method,
                                     const manta_value *const *args,
                                     size_t nargs, manta_ref *out);
/* A method call with n return values (1 to 65536): the method returns a
 * list of n values, split into the n refs of out as manta_submit_returns
 * does (docs/api.md, "Several return values"). */
MANTA_API manta_err manta_actor_call_returns(manta_actor actor,
                                             const char *method,
                                             const manta_value *const *args,
                                             size_t nargs, manta_ref *out,
                                             size_t n);
/* A new handle to the actor created with that name (MANTA_ERR_NOT_FOUND). */
MANTA_API manta_err manta_actor_lookup(const char *name, manta_actor *out);
/*
 * Kills the actor: calls not started resolve to MANTA_ERR_ACTOR_DEAD, the
 * running call finishes, the state is destroyed, the name is freed.
 */
MANTA_API manta_err manta_actor_kill(manta_actor actor);
MANTA_API manta_err manta_actor_clone(manta_actor actor, manta_actor *out);
MANTA_API manta_err manta_actor_release(manta_actor actor);

/* ------------------------------------------------------------------------ */
/* Calls, the short form (docs/api.md, "The short call form")               */
/* ------------------------------------------------------------------------ */

/*
 * The calls above, written the way they read. Arguments are values made by
 * the constructors (manta_int, manta_str, manta_list...) and passed straight
 * in: these functions take them over and free them, also when they fail, so
 * the caller neither casts nor frees:
 *
 *   manta_value *v;
 *   manta_err err = manta_call_get(&v, "square", 1, manta_int(7));
 *
 * nargs is the number of values that follow (the compiler cannot check it).
 * Passing one value twice needs a manta_value_ref for the second. A NULL
 * argument is what a constructor returns when it fails (out of memory, NULL
 * data): the call then fails with MANTA_ERR_NOMEM, frees the other
 * arguments and submits nothing. Everything else is as for manta_submit,
 * manta_actor_create and manta_actor_call: refs among the arguments are
 * dependencies, failures of the call itself come back in its ref.
 *
 * The *_get forms wait for the result and give it in *out; as for manta_get,
 * *out is set on every failure too (an error value saying what happened, an
 * argument that was NULL included), and the return is its code.
 */

/* A NUL-terminated string, copied (manta_cstring, under a shorter name). */
MANTA_API manta_value *manta_str(const char *s);
/* A value holding a ref that takes over the caller's count on it (the
 * caller does not release ref afterwards; on failure it is released and
 * NULL returned), to pass a result on as an argument in one step:
 * manta_call(&total, "aggregate", 2, manta_ref_take(a), manta_ref_take(b)). */
MANTA_API manta_value *manta_ref_take(manta_ref ref);

/* Submits name(args...), taking the nargs values that follow. */
MANTA_API manta_err manta_call(manta_ref *out, const char *name, size_t nargs,
                               ...);
/* The same with the values in an array (the values are taken; the array
 * stays the caller's) and options (may be NULL). */
MANTA_API manta_err manta_callv(manta_ref *out, const char *name,
                                manta_value **args, size_t nargs,
                                const manta_call_options *opts);
/* Submits name(args...) and waits for its result, with no time limit. */
MANTA_API manta_err manta_call_get(manta_value **out, const char *name,
                                   size_t nargs, ...);
/* The same, waiting up to timeout_ms (MANTA_FOREVER: no limit); on
 * MANTA_ERR_TIMEOUT the call runs on, its result dropped when it comes. */
MANTA_API manta_err manta_call_get_timeout(manta_value **out,
                                           int64_t timeout_ms, const char *name,
                                           size_t nargs, ...);

/* Creates an actor of class_name, taking the constructor's nargs values. */
MANTA_API manta_err manta_actor_new(manta_actor *out, const char *class_name,
                                    size_t nargs, ...);
/* The same with an array (values taken) and options (a name, ...). */
MANTA_API manta_err manta_actor_newv(manta_actor *out, const char *class_name,
                                     manta_value **args, size_t nargs,
                                     const manta_call_options *opts);
/* Calls actor.method(args...), taking the nargs values that follow. */
MANTA_API manta_err manta_actor_invoke(manta_ref *out, manta_actor actor,
                                       const char *method, size_t nargs, ...);
/* The same with an array (values taken). */
MANTA_API manta_err manta_actor_invokev(manta_ref *out, manta_actor actor,
                                        const char *method, manta_value **args,
                                        size_t nargs);
/* Calls actor.method(args...) and waits for its result, no time limit. */
MANTA_API manta_err manta_actor_invoke_get(manta_value **out, manta_actor actor,
                                           const char *method, size_t nargs,
                                           ...);
/* The same, waiting up to timeout_ms (MANTA_FOREVER: no limit). */
MANTA_API manta_err manta_actor_invoke_get_timeout(manta_value **out,
                                                   int64_t timeout_ms,
                                                   manta_actor actor,
                                                   const char *method,
                                                   size_t nargs, ...);

/* ------------------------------------------------------------------------ */
/* Named actors: get or create (docs/api.md, "Get or create")               */
/* ------------------------------------------------------------------------ */

/*
 * A handle to the actor named `name`: the one that exists, or one created
 * now of class_name with the given constructor arguments (taken, as in the
 * short call form, whether they are used or not; a NULL among them:
 * MANTA_ERR_NOMEM) and options (may be NULL; their name, if any, is
 * replaced by `name`). Race-free: threads of one process, and processes of
 * one cluster, that ask for the same name at once all get the same actor,
 * whose constructor runs once; in a cluster the head decides who creates
 * it. *created (may be NULL) is 1 for the caller that created it, else 0.
 * MANTA_ERR_EXISTS if the name belongs to an actor of another class.
 */
MANTA_API manta_err manta_actor_get_or_create(const char *name,
                                              const char *class_name,
                                              manta_value **args, size_t nargs,
                                              const manta_call_options *opts,
                                              manta_actor *out, int *created);

/* ------------------------------------------------------------------------ */
/* Placement groups                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A placement group reserves a list of resource *bundles* across the
 * cluster at once: every bundle or none (docs/scheduling.md). Tasks and
 * actors then run inside a bundle (manta_call_options_set_placement_group),
 * taking its reserved resources instead of the node's free ones. The
 * handle is a checked id of this process, like manta_actor; it stays valid
 * until manta_placement_group_remove or manta_shutdown.
 */
typedef struct manta_placement_group {
  uint64_t id;
} manta_placement_group;

typedef enum manta_pg_strategy {
  /* As few nodes as possible (best effort). */
  MANTA_PG_PACK = 0,
  /* Each bundle on a different node where it can be (best effort). */
  MANTA_PG_SPREAD = 1,
  /* All bundles on one node, or not at all. */
  MANTA_PG_STRICT_PACK = 2,
  /* Each bundle on a different node, or not at all. */
  MANTA_PG_STRICT_SPREAD = 3
} manta_pg_strategy;

/*
 * Asks for a group: bundles is a non-empty list of maps, each a bundle
 * {resource name: quantity > 0} ("CPU", or a custom resource). Returns at
 * once: the group is reserved as soon as resources allow; wait for it with
 * manta_placement_group_wait. MANTA_ERR_INVALID for a malformed list or an
 * unknown strategy.
 */
MANTA_API manta_err manta_placement_group_create(const manta_value *bundles,
                                                 manta_pg_strategy strategy,
                                                 manta_placement_group *out);
/*
 * Waits up to timeout_ms (MANTA_FOREVER: no limit) until the group is
 * reserved: MANTA_OK. MANTA_ERR_INFEASIBLE at once when no set of nodes can
 * ever hold it (by their total resources), MANTA_ERR_TIMEOUT when it still
 * waits for resources to free up, MANTA_ERR_CANCELLED if it was removed
 * meanwhile, MANTA_ERR_BAD_HANDLE for a stale handle. error (may be NULL)
 * receives an error value saying why for any result but MANTA_OK.
 */
MANTA_API manta_err manta_placement_group_wait(manta_placement_group pg,
                                               int64_t timeout_ms,
                                               manta_value **error);
/*
 * Frees the group's reservation: calls queued in it and not started
 * resolve to MANTA_ERR_CANCELLED, actors created in it are killed, running
 * tasks run to their end but their refs resolve to MANTA_ERR_CANCELLED at
 * once. The handle is stale afterwards.
 */
MANTA_API manta_err manta_placement_group_remove(manta_placement_group pg);
/*
 * A map describing the group: "id" (16 hex digits), "strategy" ("PACK",
 * ...), "state" ("PENDING", "CREATED", "INFEASIBLE"), "bundles" (a list of
 * maps: "resources" {name: quantity}, "node_id" once reserved).
 */
MANTA_API manta_err manta_placement_group_info(manta_placement_group pg,
                                               manta_value **out);
/*
 * Runs the call inside bundle bundle_index of the group (-1: any bundle
 * that can hold it). Its resources (CPU 1 for a task unless set) come out
 * of the bundle's reservation; a call that asks for more than the bundle
 * holds resolves to MANTA_ERR_INFEASIBLE. A task submitted before the
 * group is reserved waits until it is (its ref resolves to
 * MANTA_ERR_CANCELLED if the group is removed first); an actor needs the
 * group reserved (manta_placement_group_wait) when it is created. Replaces
 * a strategy or node affinity. MANTA_ERR_INVALID if bundle_index < -1.
 */
MANTA_API manta_err manta_call_options_set_placement_group(
    manta_call_options *opts, manta_placement_group pg, int bundle_index);
/*
 * Child capture (Ray's placement_group_capture_child_tasks): with on != 0,
 * a task submitted from inside a task (or an actor's method) running in
 * one of the group's bundles, with no placement group and the default
 * strategy in its options, runs in the group too (any bundle, as
 * bundle_index -1); a call with its own group, strategy or node affinity
 * keeps it. Off by default.
 * Captured on the node that created the group (docs/scheduling.md).
 * MANTA_ERR_BAD_HANDLE for a stale handle.
 */
MANTA_API manta_err
manta_placement_group_set_capture_child_tasks(manta_placement_group pg, int on);

/* ------------------------------------------------------------------------ */
/* Modules                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * A module is a shared library that registers functions and actor classes
 * by name when a node loads it. It exports one entry point, named
 * MANTA_MODULE_ENTRY, of type manta_module_init_fn, which registers what the
 * module offers and returns MANTA_OK or the first error:
 *
 *   MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
 *     return manta_register_function("levenshtein", levenshtein, 2, NULL);
 *   }
 */
#define MANTA_MODULE_ENTRY "manta_module_init"
typedef manta_err (*manta_module_init_fn)(void);
#if defined(_WIN32)
#define MANTA_MODULE_EXPORT __declspec(dllexport)
#else
#define MANTA_MODULE_EXPORT __attribute__((visibility("default")))
#endif

/*
 * Loads a module into this process and runs its entry point (the runtime
 * must be initialized). Loading a module already loaded since manta_init
 * does nothing and returns MANTA_OK. MANTA_ERR_NOT_FOUND if the file cannot
 * be loaded or lacks the entry point (the log line says why); otherwise the
 * entry point's own result.
 */
MANTA_API manta_err manta_module_load(const char *path);

/* ------------------------------------------------------------------------ */
/* Introspection                                                             */
/* ------------------------------------------------------------------------ */

typedef enum manta_stat {
  MANTA_STAT_LIVE_OBJECTS = 0,      /* objects with at least one ref */
  MANTA_STAT_LIVE_OBJECT_BYTES = 1, /* bytes of string/bytes data held */
  MANTA_STAT_TASKS_QUEUED = 2,      /* waiting for dependencies or slots */
  MANTA_STAT_TASKS_RUNNING = 3,
  MANTA_STAT_TASKS_FINISHED = 4, /* since init, including failed ones */
  MANTA_STAT_WORKER_THREADS = 5, /* threads alive in the pool */
  MANTA_STAT_LIVE_ACTORS = 6,
  MANTA_STAT_LIVE_VALUES = 7, /* manta_value allocations, process-wide */
  /* tasks this node sent to another node that died, sent again */
  MANTA_STAT_TASKS_RETRIED = 8
} manta_stat;

MANTA_API manta_err manta_stat_get(manta_stat which, int64_t *out);
/* The port this node serves /metrics on: MANTA_ERR_NOT_FOUND when it
 * serves none (see manta_options_set_metrics_port). */
MANTA_API manta_err manta_metrics_port(int *port);
/* Total and currently free quantity of a resource ("CPU", "GPU", ...). */
MANTA_API manta_err manta_resource_get(const char *name, double *total,
                                       double *available);

/* ------------------------------------------------------------------------ */
/* Log                                                                       */
/* ------------------------------------------------------------------------ */

typedef enum manta_log_level {
  MANTA_LOG_ERROR = 0,
  MANTA_LOG_WARN = 1,
  MANTA_LOG_INFO = 2,
  MANTA_LOG_DEBUG = 3
} manta_log_level;

/* Receives one line of the runtime's log: its level and message (no
 * prefix, no newline; valid during the call only). It runs on the thread
 * that logged, possibly with the runtime's locks held: it must not call
 * manta functions, only copy or forward the line and return. */
typedef void (*manta_log_handler)(manta_log_level level, const char *message,
                                  void *arg);

/* Hands the runtime's log lines (those the MANTA_LOG level lets through)
 * to handler(level, message, arg) instead of writing them to stderr; NULL
 * restores stderr. Allowed at any time, before manta_init too. When it
 * returns, no thread is still inside the previous handler, so its arg may
 * be freed. */
MANTA_API void manta_log_set_handler(manta_log_handler handler, void *arg);

/* The most detailed level written (to stderr or the handler) from now on,
 * in this process: lines of a higher level are dropped before they are
 * formatted. Overrides MANTA_LOG (which gives the level until this is
 * called; default MANTA_LOG_WARN). Allowed at any time, before manta_init
 * too. MANTA_ERR_INVALID for a level outside the enum. */
MANTA_API manta_err manta_log_set_level(manta_log_level level);
/* The level in force (MANTA_LOG's, or the last manta_log_set_level). */
MANTA_API manta_log_level manta_log_get_level(void);

/* ------------------------------------------------------------------------ */
/* Timeline (docs/observability.md)                                          */
/* ------------------------------------------------------------------------ */

/*
 * Turns this node's timeline on (events: how many each worker thread keeps,
 * 2 to 4194304; the oldest are overwritten) or off (0). Off by default;
 * MANTA_TIMELINE=N (or "on": 16384) turns it on at manta_init. While on,
 * every task and actor call run here is noted with its start and end.
 * Turning it on (or changing the size) empties what the workers kept so
 * far; turning it off keeps it, to be read.
 */
MANTA_API manta_err manta_timeline_enable(int64_t events);
/*
 * The recent task and actor-call events of every live node of a cluster,
 * as Chrome trace-event JSON (chrome://tracing, Perfetto): one process per
 * node, one thread per worker, an "X" event per call with its function (or
 * Class.method), node, worker and ref id. address: a head's HOST:PORT,
 * reached with the token and TLS of opts (as manta_cluster_status_with);
 * NULL: the cluster of this process (its runtime must be initialized;
 * embedded, the node alone). *json_out is malloc'd: free it with
 * manta_free. A node that does not answer is named in the trace's
 * metadata (otherData.unanswered).
 */
MANTA_API manta_err manta_timeline(const char *address,
                                   const manta_options *opts, char **json_out);

/*
 * A node's log (what it writes to standard error, when that is a file:
 * `manta start` sends it to the state folder), asked through the cluster
 * (docs/observability.md). address: a head's HOST:PORT (token and TLS as
 * manta_cluster_status_with), or NULL for this process's cluster. node:
 * NULL or "" for the head, else a node id (or its first digits, if only
 * one node has them) or its HOST:PORT. from: a byte offset, or negative
 * for that many bytes before the end. *text_out (malloc'd, free with
 * manta_free; NUL-terminated) gets at most 256 KiB from there, *len_out
 * its length, *next_out the offset to ask next (to follow the log).
 * MANTA_ERR_NOT_FOUND: no such node, or its log is no file; _NODE_DIED:
 * the node is dead or did not answer. The cause is logged.
 */
MANTA_API manta_err manta_node_log(const char *address,
                                   const manta_options *opts, const char *node,
                                   int64_t from, char **text_out,
                                   size_t *len_out, int64_t *next_out);

/* ------------------------------------------------------------------------ */
/* Serve: HTTP routes to functions and actor replicas (docs/serve.md)        */
/* ------------------------------------------------------------------------ */

/*
 * The HTTP ingress of this process. A request to a route becomes one value
 * (a map: method, path, route, query, headers, body, json) given to the
 * route's function or actor method; the value returned becomes the
 * response (docs/serve.md has both tables). At most one ingress per
 * process; it stops with manta_shutdown.
 */
typedef struct manta_serve_options manta_serve_options;

MANTA_API manta_err manta_serve_options_new(manta_serve_options **out);
MANTA_API void manta_serve_options_free(manta_serve_options *opts);
/* The address to listen on (copied); default "127.0.0.1". Another host is
 * reachable from other machines: bind there only on purpose. */
MANTA_API manta_err manta_serve_options_set_host(manta_serve_options *opts,
                                                 const char *host);
/* The port; default 8000, 0 any free one (manta_serve_port tells which). */
MANTA_API manta_err manta_serve_options_set_port(manta_serve_options *opts,
                                                 int port);
/* Largest request body taken, in bytes (more: 413); default 1 MiB. */
MANTA_API manta_err manta_serve_options_set_max_body(manta_serve_options *opts,
                                                     size_t bytes);

/* The token the admin routes (/-/routes: deploy, status, delete over HTTP)
 * require as `Authorization: Bearer TOKEN` (copied; NULL or "" clears it:
 * no token asked). Requests to the routes themselves never need it. */
MANTA_API manta_err manta_serve_options_set_token(manta_serve_options *opts,
                                                  const char *token);

/* Starts the ingress (opts may be NULL: defaults). Needs manta_init.
 * MANTA_ERR_EXISTS if one runs; MANTA_ERR_INVALID if it cannot listen
 * (the cause is logged: port taken, host unknown). */
MANTA_API manta_err manta_serve_start(const manta_serve_options *opts);
/* The port served; MANTA_ERR_NOT_FOUND when no ingress runs. */
MANTA_API manta_err manta_serve_port(int *port);
/* Stops the ingress: requests waiting for a result are answered 503. The
 * routes stay (a later start serves them). */
MANTA_API manta_err manta_serve_stop(void);

/* What one route serves: options by setters, then manta_serve_deploy. */
typedef struct manta_deployment manta_deployment;

/* route: a path prefix matched by whole segments ("/echo" serves /echo and
 * /echo/x, not /echoes); MANTA_ERR_INVALID if it does not start with '/'. */
MANTA_API manta_err manta_deployment_new(const char *route,
                                         manta_deployment **out);
MANTA_API void manta_deployment_free(manta_deployment *d);
/* The target: a function (called with the request, any node offering it
 * runs it), or an actor class with `replicas` actors placed over the nodes
 * offering it and a method (NULL: the path segment after the route names
 * the method: POST /counter/increment calls "increment"). */
MANTA_API manta_err manta_deployment_set_function(manta_deployment *d,
                                                  const char *name);
MANTA_API manta_err manta_deployment_set_class(manta_deployment *d,
                                               const char *class_name,
                                               const char *method);
/* Actor replicas (class targets); default 1. */
MANTA_API manta_err manta_deployment_set_replicas(manta_deployment *d,
                                                  unsigned replicas);
/* Requests in flight per replica (a function route: in all) before the
 * route answers 503 at once; default 100. */
MANTA_API manta_err
manta_deployment_set_max_ongoing_requests(manta_deployment *d, unsigned max);
/* A request without a result after timeout_ms is answered 504; default
 * 60000. */
MANTA_API manta_err manta_deployment_set_timeout(manta_deployment *d,
                                                 int64_t timeout_ms);

/* Class routes: between min_replicas and max_replicas actors, adding one
 * while more than target_ongoing requests per replica are in flight and
 * retiring one (after it drains) once the load would fit half of the
 * target with one fewer, each only after it held for a while (hysteresis;
 * docs/serve.md). target_ongoing 0: 2. MANTA_ERR_INVALID unless 1 <= min
 * <= max <= 1000. The replicas setter then gives the starting count. */
MANTA_API manta_err manta_deployment_set_autoscaling(manta_deployment *d,
                                                     unsigned min_replicas,
                                                     unsigned max_replicas,
                                                     unsigned target_ongoing);

/* Class routes: a request whose replica was lost (ACTOR_DEAD, NODE_DIED)
 * is sent once more, to the replica chosen then, instead of answering 503;
 * only for methods that may run twice. Default 0. */
MANTA_API manta_err manta_deployment_set_idempotent(manta_deployment *d,
                                                    int idempotent);

/* Class routes: every period_ms, each replica's method `method` is called
 * with no argument; an error, or no answer within timeout_ms, replaces the
 * replica (a live one is killed first). period_ms, timeout_ms: 0 for the
 * defaults (10000, 30000). method NULL: no probe (the default). */
MANTA_API manta_err manta_deployment_set_health_check(manta_deployment *d,
                                                      const char *method,
                                                      int64_t period_ms,
                                                      int64_t timeout_ms);
/* Class routes: each replica holds qty of the resource name while it
 * lives, as an actor created with manta_call_options_set_resource ("CPU":
 * manta_call_options_set_num_cpus); set again to change it. At most 16
 * names. */
MANTA_API manta_err manta_deployment_set_resource(manta_deployment *d,
                                                  const char *name, double qty);
/* Class routes: the arguments each replica's constructor gets (borrowed:
 * kept as a list; values are frozen once deployed). nargs 0: none. */
MANTA_API manta_err manta_deployment_set_args(manta_deployment *d,
                                              const manta_value *const *args,
                                              size_t nargs);

/* Deploys (creating the replicas) or redeploys the route: new requests go
 * to the new version at once, the old replicas finish what they hold and
 * are then killed. Works with or without a running ingress. */
MANTA_API manta_err manta_serve_deploy(const manta_deployment *d);
/* Removes a route (its replicas drain); MANTA_ERR_NOT_FOUND if none. */
MANTA_API manta_err manta_serve_delete(const char *route);
/* The routes as a list of maps (route, target, version, counts, replicas
 * with in_flight/handled/errors); docs/serve.md lists the keys. */
MANTA_API manta_err manta_serve_status(manta_value **out);

/* ------------------------------------------------------------------------ */
/* Streaming returns (docs/api.md, "Streams")                                */
/* ------------------------------------------------------------------------ */

/* A stream of the items a call emits while it runs. A checked id, not a
 * pointer; released with manta_stream_release. */
typedef struct manta_stream {
  uint64_t id;
} manta_stream;

/* The most items a stream holds unread (1 to 1048576, default 1024): a
 * producer that far ahead waits in manta_emit until the reader catches
 * up, so a long generator never fills memory. */
MANTA_API manta_err
manta_call_options_set_stream_window(manta_call_options *opts, size_t items);

/*
 * Submits a call (or an actor method call) as a stream: inside it, each
 * manta_emit makes one item, which the caller reads in order with
 * manta_stream_next. Options as for manta_submit (num_returns must be 1),
 * plus the window. The call may run on any node; items flow back as they
 * are emitted.
 */
MANTA_API manta_err manta_submit_stream(const char *name,
                                        const manta_value *const *args,
                                        size_t nargs,
                                        const manta_call_options *opts,
                                        manta_stream *out);
MANTA_API manta_err manta_actor_call_stream(
    manta_actor actor, const char *method, const manta_value *const *args,
    size_t nargs, const manta_call_options *opts, manta_stream *out);

/*
 * From inside a function or method submitted as a stream: emits one item
 * (taken, also on failure). Waits while the window is full. MANTA_OK;
 * MANTA_ERR_CANCELLED when the reader released the stream (return now);
 * MANTA_ERR_INVALID outside a stream call (item NULL, or a plain call);
 * MANTA_ERR_SHUTDOWN; MANTA_ERR_OBJECT_STORE_FULL.
 */
MANTA_API manta_err manta_emit(manta_value *item);

/*
 * The next item: MANTA_OK with *out a ref to it (the caller releases it).
 * Waits up to timeout_ms (0: do not wait; MANTA_FOREVER: no limit).
 * MANTA_ERR_TIMEOUT: nothing came in time, the stream goes on (call again).
 * MANTA_ERR_STREAM_END: the call returned and every item was read.
 * MANTA_ERR_TASK_FAILED: the call failed after the items read so far;
 * manta_stream_error gives its error. MANTA_ERR_BAD_HANDLE: a stale stream.
 */
MANTA_API manta_err manta_stream_next(manta_stream stream, manta_ref *out,
                                      int64_t timeout_ms);
/* The error a failed stream call ended with (*out a new reference), or
 * MANTA_ERR_NOT_FOUND while it runs or when it ended without one. */
MANTA_API manta_err manta_stream_error(manta_stream stream, manta_value **out);
/* Drops the stream: unread items are freed, and a call still running is
 * stopped (its next manta_emit returns MANTA_ERR_CANCELLED; not started,
 * it is cancelled). Refs already read stay valid. */
MANTA_API manta_err manta_stream_release(manta_stream stream);

#ifdef __cplusplus
}
#endif

#endif /* MANTA_H */
