/* The native methods of manta.Native: the Java API's calls into manta.h. */
#include "manta_Native.h"
#include "mj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NATIVE(ret, name) JNIEXPORT ret JNICALL Java_manta_Native_##name

enum { ARGS_ON_STACK = 8, NAME_ON_STACK = 256 };

/* Throws for a failed call; true if err was MANTA_OK. */
static bool check(JNIEnv *env, manta_err err, const char *what) {
  if (err == MANTA_OK) {
    return true;
  }
  mj_throw(env, err, "%s: %s", what, manta_strerror(err));
  return false;
}

/* ---- the runtime --------------------------------------------------------- */

/* Sets a string option of manta_init if s is not null; MANTA_ERR_INVALID
 * with an exception pending if it cannot be a C string. */
static manta_err set_string_option(JNIEnv *env, manta_options *o, jstring s,
                                   manta_err (*set)(manta_options *,
                                                    const char *),
                                   const char *what) {
  if (!s) {
    return MANTA_OK;
  }
  char buf[256];
  char *c = mj_cstring(env, s, buf, sizeof buf, what);
  if (!c) {
    return MANTA_ERR_INVALID;
  }
  manta_err err = set(o, c);
  if (c != buf) {
    free(c);
  }
  return err;
}

/* manta_options_set_tls from Options.tls: {cert, key, ca}, each may be
 * null; MANTA_ERR_INVALID (an exception pending or the log saying why)
 * otherwise. */
static manta_err set_tls_option(JNIEnv *env, manta_options *o,
                                jobjectArray files) {
  if (!files || (*env)->GetArrayLength(env, files) != 3) {
    return MANTA_OK;
  }
  static const char *what[3] = {"the TLS certificate path", "the TLS key path",
                                "the TLS CA path"};
  char bufs[3][256];
  char *paths[3] = {NULL, NULL, NULL};
  manta_err err = MANTA_OK;
  for (int i = 0; i < 3 && err == MANTA_OK; i++) {
    jstring s = (*env)->GetObjectArrayElement(env, files, i);
    if (s) {
      paths[i] = mj_cstring(env, s, bufs[i], sizeof bufs[i], what[i]);
      err = paths[i] ? MANTA_OK : MANTA_ERR_INVALID;
      (*env)->DeleteLocalRef(env, s);
    }
  }
  if (err == MANTA_OK) {
    err = manta_options_set_tls(o, paths[0], paths[1], paths[2]);
  }
  for (int i = 0; i < 3; i++) {
    if (paths[i] && paths[i] != bufs[i]) {
      free(paths[i]);
    }
  }
  return err;
}

NATIVE(void, init)
(JNIEnv *env, jclass cls, jdouble cpus, jint max_workers, jobjectArray names,
 jdoubleArray qty, jstring address, jint role, jstring bind, jstring token,
 jobjectArray tls, jint insecure, jlong store_bytes, jstring spill_dir,
 jint metrics_port) {
  (void)cls;
  manta_options *o = NULL;
  if (!check(env, manta_options_new(&o), "manta_options_new")) {
    return;
  }
  manta_err err = MANTA_OK;
  if (cpus >= 0) {
    err = manta_options_set_num_cpus(o, cpus);
  }
  if (err == MANTA_OK && max_workers > 0) {
    err = manta_options_set_max_workers(o, (unsigned)max_workers);
  }
  jsize n = names ? (*env)->GetArrayLength(env, names) : 0;
  jdouble *q = n ? (*env)->GetDoubleArrayElements(env, qty, NULL) : NULL;
  for (jsize i = 0; err == MANTA_OK && i < n; i++) {
    jstring s = (*env)->GetObjectArrayElement(env, names, i);
    char buf[128];
    char *name = mj_cstring(env, s, buf, sizeof buf, "a resource name");
    (*env)->DeleteLocalRef(env, s);
    if (!name) {
      err = MANTA_ERR_INVALID;
      break;
    }
    err = manta_options_set_resource(o, name, q[i]);
    if (name != buf) {
      free(name);
    }
  }
  if (q) {
    (*env)->ReleaseDoubleArrayElements(env, qty, q, JNI_ABORT);
  }
  char abuf[256], *addr = NULL;
  if (err == MANTA_OK && address) {
    addr = mj_cstring(env, address, abuf, sizeof abuf, "the cluster address");
    err = addr ? manta_options_set_address(o, addr) : MANTA_ERR_INVALID;
  }
  if (err == MANTA_OK) {
    err = manta_options_set_role(o, (manta_role)role);
  }
  if (err == MANTA_OK) {
    err = set_string_option(env, o, bind, manta_options_set_bind,
                            "the bind address");
  }
  if (err == MANTA_OK) {
    err = set_string_option(env, o, token, manta_options_set_token,
                            "the cluster token");
  }
  if (err == MANTA_OK) {
    err = set_tls_option(env, o, tls);
  }
  if (err == MANTA_OK && insecure >= 0) {
    err = manta_options_set_insecure(o, insecure);
  }
  if (err == MANTA_OK && store_bytes >= 0) {
    err = manta_options_set_object_store_memory(o, (uint64_t)store_bytes);
  }
  if (err == MANTA_OK) {
    err = set_string_option(env, o, spill_dir, manta_options_set_spill_dir,
                            "the spill folder");
  }
  if (err == MANTA_OK && metrics_port >= -1) {
    err = manta_options_set_metrics_port(o, metrics_port);
  }
  if ((*env)->ExceptionCheck(env)) {
    /* thrown already */
  } else if (err != MANTA_OK) {
    mj_throw(env, err, "Manta.init: bad option: %s", manta_strerror(err));
  } else if ((err = manta_init(o)) != MANTA_OK) {
    const char *env_addr = getenv("MANTA_ADDRESS");
    const char *target = addr ? addr : env_addr && *env_addr ? env_addr : NULL;
    if (target) {
      mj_throw(env, err,
               "Manta.init: cannot join the cluster at %s: %s (%s); the "
               "manta log on stderr says why",
               target, manta_strerror(err), manta_errname(err));
    } else {
      mj_throw(env, err, "Manta.init: %s (%s)", manta_strerror(err),
               manta_errname(err));
    }
  }
  if (addr && addr != abuf) {
    free(addr);
  }
  manta_options_free(o);
}

NATIVE(void, shutdown)(JNIEnv *env, jclass cls) {
  (void)cls;
  manta_err err = manta_shutdown();
  if (err == MANTA_ERR_INVALID) {
    mj_throw(env, err, "Manta.shutdown cannot run inside a task");
  } else {
    check(env, err, "Manta.shutdown");
  }
}

NATIVE(jboolean, isInitialized)(JNIEnv *env, jclass cls) {
  (void)env, (void)cls;
  return manta_is_initialized() ? JNI_TRUE : JNI_FALSE;
}

NATIVE(jlong, stat)(JNIEnv *env, jclass cls, jint which) {
  (void)cls;
  int64_t out = 0;
  check(env, manta_stat_get((manta_stat)which, &out), "Manta.stat");
  return (jlong)out;
}

NATIVE(void, loadModule)(JNIEnv *env, jclass cls, jstring path) {
  (void)cls;
  char buf[512];
  char *p = mj_cstring(env, path, buf, sizeof buf, "the module path");
  if (!p) {
    return;
  }
  manta_err err = manta_module_load(p);
  if (err != MANTA_OK) {
    mj_throw(env, err, "cannot load module %s: %s (the manta log says why)", p,
             manta_strerror(err));
  }
  if (p != buf) {
    free(p);
  }
}

NATIVE(jstring, nodeAddress)(JNIEnv *env, jclass cls) {
  (void)cls;
  char buf[128];
  manta_err err = manta_node_address(buf, sizeof buf);
  if (err == MANTA_ERR_NOT_FOUND) {
    return NULL; /* embedded */
  }
  return check(env, err, "Manta.nodeAddress") ? (*env)->NewStringUTF(env, buf)
                                              : NULL;
}

NATIVE(jstring, nodeId)(JNIEnv *env, jclass cls) {
  (void)cls;
  char buf[17];
  return check(env, manta_node_id(buf, sizeof buf), "Manta.nodeId")
             ? (*env)->NewStringUTF(env, buf)
             : NULL;
}

NATIVE(void, enableTimeline)(JNIEnv *env, jclass cls, jlong events) {
  (void)cls;
  check(env, manta_timeline_enable((int64_t)events), "Manta.enableTimeline");
}

NATIVE(jstring, timeline)(JNIEnv *env, jclass cls, jstring jaddress) {
  (void)cls;
  const char *address =
      jaddress ? (*env)->GetStringUTFChars(env, jaddress, NULL) : NULL;
  if (jaddress && !address) {
    return NULL; /* OutOfMemoryError pending */
  }
  char *json = NULL;
  manta_err err = manta_timeline(address, NULL, &json);
  if (address) {
    (*env)->ReleaseStringUTFChars(env, jaddress, address);
  }
  /* The trace is JSON text: ASCII but for names, which are UTF-8 and
   * never hold NUL, so modified UTF-8 reads it the same. */
  jstring out = check(env, err, "Manta.timeline")
                    ? (*env)->NewStringUTF(env, json)
                    : NULL;
  manta_free(json);
  return out;
}

NATIVE(jstring, versionString)(JNIEnv *env, jclass cls) {
  (void)cls;
  return (*env)->NewStringUTF(env, manta_version_string());
}

/* The state folder (manta_state_dir, its checks applied); an exception
 * naming why when it cannot be trusted. */
NATIVE(jstring, stateDir)(JNIEnv *env, jclass cls) {
  (void)cls;
  char buf[4096];
  manta_value *why = NULL;
  if (manta_state_dir(buf, sizeof buf, &why) != MANTA_OK) {
    mj_throw(env, MANTA_ERR_INVALID, "%s",
             why ? manta_error_message(why) : "no state folder");
    manta_value_free(why);
    return NULL;
  }
  return (*env)->NewStringUTF(env, buf);
}

/* ---- call options -------------------------------------------------------- */

/* The strategy or node affinity of a CallOptions object, set on o. */
static manta_err call_placement(JNIEnv *env, jobject jo,
                                manta_call_options *o) {
  jstring jnode = (*env)->GetObjectField(env, jo, mj.CallOptions_affinityNode);
  if (!jnode) {
    jint strategy = (*env)->GetIntField(env, jo, mj.CallOptions_strategy);
    return manta_call_options_set_strategy(o, (manta_strategy)strategy);
  }
  char buf[32];
  char *node = mj_cstring(env, jnode, buf, sizeof buf, "the node id");
  jboolean soft = (*env)->GetBooleanField(env, jo, mj.CallOptions_affinitySoft);
  manta_err err = node ? manta_call_options_set_node_affinity(o, node, soft)
                       : MANTA_ERR_INVALID;
  if (node && node != buf) {
    free(node);
  }
  (*env)->DeleteLocalRef(env, jnode);
  return err;
}

/* manta_call_options from a CallOptions object (NULL: none); false with an
 * exception pending on failure. */
static bool call_options(JNIEnv *env, jobject jo, manta_call_options **out) {
  *out = NULL;
  if (!jo) {
    return true;
  }
  manta_call_options *o = NULL;
  if (!check(env, manta_call_options_new(&o), "manta_call_options_new")) {
    return false;
  }
  manta_err err = MANTA_OK;
  jdouble cpus = (*env)->GetDoubleField(env, jo, mj.CallOptions_numCpus);
  if (cpus >= 0) {
    err = manta_call_options_set_num_cpus(o, cpus);
  }
  jint conc = (*env)->GetIntField(env, jo, mj.CallOptions_maxConcurrency);
  if (err == MANTA_OK && conc > 0) {
    err = manta_call_options_set_max_concurrency(o, (unsigned)conc);
  }
  jint restarts = (*env)->GetIntField(env, jo, mj.CallOptions_maxRestarts);
  if (err == MANTA_OK && restarts != 0) {
    err = manta_call_options_set_max_restarts(o, restarts);
  }
  jint retries = (*env)->GetIntField(env, jo, mj.CallOptions_maxTaskRetries);
  if (err == MANTA_OK && retries != 0) {
    err = manta_call_options_set_max_task_retries(o, retries);
  }
  /* Retries of tasks (mj_cancel.c has the rest of that API). */
  if (err == MANTA_OK) {
    err = manta_call_options_set_max_retries(
        o, (*env)->GetIntField(env, jo, mj.CallOptions_maxRetries));
  }
  if (err == MANTA_OK) {
    err = manta_call_options_set_retry_exceptions(
        o, (*env)->GetBooleanField(env, jo, mj.CallOptions_retryExceptions));
  }
  jstring jname = (*env)->GetObjectField(env, jo, mj.CallOptions_name);
  if (err == MANTA_OK && jname) {
    char buf[256];
    char *name = mj_cstring(env, jname, buf, sizeof buf, "the actor name");
    err = name ? manta_call_options_set_name(o, name) : MANTA_ERR_INVALID;
    if (name && name != buf) {
      free(name);
    }
  }
  (*env)->DeleteLocalRef(env, jname);
  if (err == MANTA_OK) {
    err = call_placement(env, jo, o);
  }
  jlong pg = (*env)->GetLongField(env, jo, mj.CallOptions_pgId);
  if (err == MANTA_OK && pg) {
    err = manta_call_options_set_placement_group(
        o, (manta_placement_group){(uint64_t)pg},
        (*env)->GetIntField(env, jo, mj.CallOptions_pgBundle));
  }
  jobjectArray names =
      (*env)->GetObjectField(env, jo, mj.CallOptions_resourceNames);
  jdoubleArray qty =
      (*env)->GetObjectField(env, jo, mj.CallOptions_resourceQuantities);
  jsize n = names ? (*env)->GetArrayLength(env, names) : 0;
  for (jsize i = 0; err == MANTA_OK && i < n; i++) {
    jstring s = (*env)->GetObjectArrayElement(env, names, i);
    jdouble q = 0;
    (*env)->GetDoubleArrayRegion(env, qty, i, 1, &q);
    char buf[128];
    char *name = mj_cstring(env, s, buf, sizeof buf, "a resource name");
    err =
        name ? manta_call_options_set_resource(o, name, q) : MANTA_ERR_INVALID;
    if (name && name != buf) {
      free(name);
    }
    (*env)->DeleteLocalRef(env, s);
  }
  (*env)->DeleteLocalRef(env, names);
  (*env)->DeleteLocalRef(env, qty);
  if (err != MANTA_OK) {
    if (!(*env)->ExceptionCheck(env)) {
      mj_throw(env, err, "bad call options: %s", manta_strerror(err));
    }
    manta_call_options_free(o);
    return false;
  }
  *out = o;
  return true;
}

/* ---- tasks and objects --------------------------------------------------- */

/* A name the Java side made as NUL-terminated UTF-8 (Manta.cName). */
static char *c_name(JNIEnv *env, jbyteArray jname, char *buf, size_t size) {
  jsize n = (*env)->GetArrayLength(env, jname);
  char *name = (size_t)n <= size ? buf : malloc((size_t)n);
  if (!name) {
    mj_throw_class(env, mj.OutOfMemoryError, "a name");
    return NULL;
  }
  (*env)->GetByteArrayRegion(env, jname, 0, n, (jbyte *)name);
  return name;
}

NATIVE(jlong, submit)
(JNIEnv *env, jclass cls, jbyteArray jname, jobjectArray jargs, jobject jopts) {
  (void)cls;
  manta_value *buf[ARGS_ON_STACK], **args;
  size_t n;
  mj_conv_error cerr;
  if (!mj_args_to_manta(env, jargs, buf, ARGS_ON_STACK, &args, &n, &cerr)) {
    mj_throw_conv(env, &cerr, "a call's argument");
    return 0;
  }
  manta_call_options *opts = NULL;
  char nbuf[NAME_ON_STACK];
  char *name = NULL;
  manta_ref ref = {0};
  if (call_options(env, jopts, &opts) &&
      (name = c_name(env, jname, nbuf, sizeof nbuf))) {
    check(env,
          manta_submit(name, (const manta_value *const *)args, n, opts, &ref),
          "submit");
  }
  if (name && name != nbuf) {
    free(name);
  }
  manta_call_options_free(opts);
  mj_args_free(args, n, buf);
  return (jlong)ref.id;
}

/* The ids of n new refs as a long[]; if the array cannot be made, the refs
 * are released (nobody would hold them) and NULL returned with an exception
 * pending. */
static jlongArray ref_ids(JNIEnv *env, const manta_ref *refs, jint n) {
  jlongArray out = (*env)->NewLongArray(env, n);
  for (jint i = 0; i < n; i++) {
    jlong id = (jlong)refs[i].id;
    if (out) {
      (*env)->SetLongArrayRegion(env, out, i, 1, &id);
    } else {
      manta_ref_release(refs[i]);
    }
  }
  return out;
}

/* A call declared with num_returns n: the n refs' ids (NULL with an
 * exception pending on failure). */
NATIVE(jlongArray, submitReturns)
(JNIEnv *env, jclass cls, jbyteArray jname, jobjectArray jargs, jobject jopts,
 jint nreturns) {
  (void)cls;
  manta_value *buf[ARGS_ON_STACK], **args;
  size_t n;
  mj_conv_error cerr;
  if (!mj_args_to_manta(env, jargs, buf, ARGS_ON_STACK, &args, &n, &cerr)) {
    mj_throw_conv(env, &cerr, "a call's argument");
    return NULL;
  }
  manta_call_options *opts = NULL;
  char nbuf[NAME_ON_STACK];
  char *name = NULL;
  manta_ref *refs =
      nreturns > 0 ? calloc((size_t)nreturns, sizeof *refs) : NULL;
  jlongArray out = NULL;
  if (nreturns <= 0) {
    mj_throw(env, MANTA_ERR_INVALID, "numReturns must be at least 1, not %d",
             (int)nreturns);
  } else if (!refs) {
    mj_throw_class(env, mj.OutOfMemoryError, "refs");
  } else if (call_options(env, jopts, &opts) &&
             (opts || check(env, manta_call_options_new(&opts),
                            "manta_call_options_new")) &&
             check(env,
                   manta_call_options_set_num_returns(opts, (size_t)nreturns),
                   "numReturns") &&
             (name = c_name(env, jname, nbuf, sizeof nbuf)) &&
             check(env,
                   manta_submit_returns(name, (const manta_value *const *)args,
                                        n, opts, refs, (size_t)nreturns),
                   "submit")) {
    out = ref_ids(env, refs, nreturns);
  }
  if (name && name != nbuf) {
    free(name);
  }
  free(refs);
  manta_call_options_free(opts);
  mj_args_free(args, n, buf);
  return out;
}

NATIVE(jlong, put)(JNIEnv *env, jclass cls, jobject value) {
  (void)cls;
  mj_conv_error cerr;
  manta_value *v = mj_to_manta(env, value, &cerr);
  if (!v) {
    mj_throw_conv(env, &cerr, "the value");
    return 0;
  }
  manta_ref ref = {0};
  check(env, manta_put(v, &ref), "put");
  manta_value_free(v);
  return (jlong)ref.id;
}

/* The value as a Java object, or thrown if it is an error. */
static jobject value_or_throw(JNIEnv *env, const manta_value *v) {
  if (manta_value_kind(v) == MANTA_KIND_ERROR) {
    mj_throw_error_value(env, v);
    return NULL;
  }
  return mj_to_java(env, v);
}

NATIVE(jobject, get)(JNIEnv *env, jclass cls, jlong id, jlong timeout_ms) {
  (void)cls;
  manta_value *v = NULL;
  manta_get((manta_ref){(uint64_t)id},
            timeout_ms < 0 ? MANTA_FOREVER : timeout_ms, &v);
  if (!v) {
    mj_throw(env, MANTA_ERR_NOMEM, "get: out of memory");
    return NULL;
  }
  jobject out = value_or_throw(env, v);
  manta_value_free(v);
  return out;
}

static manta_ref *ref_array(JNIEnv *env, jlongArray ids, jsize *n) {
  *n = (*env)->GetArrayLength(env, ids);
  manta_ref *refs = malloc(((size_t)*n + 1) * sizeof *refs);
  if (!refs) {
    mj_throw_class(env, mj.OutOfMemoryError, "refs");
    return NULL;
  }
  /* manta_ref is one uint64_t: copy ids one by one, not by layout. */
  jlong *raw = (*env)->GetLongArrayElements(env, ids, NULL);
  for (jsize i = 0; i < *n; i++) {
    refs[i].id = (uint64_t)raw[i];
  }
  (*env)->ReleaseLongArrayElements(env, ids, raw, JNI_ABORT);
  return refs;
}

NATIVE(jobjectArray, getMany)
(JNIEnv *env, jclass cls, jlongArray ids, jlong timeout_ms) {
  (void)cls;
  jsize n;
  manta_ref *refs = ref_array(env, ids, &n);
  if (!refs) {
    return NULL;
  }
  manta_value **vals = calloc((size_t)n + 1, sizeof *vals);
  if (!vals) {
    free(refs);
    mj_throw_class(env, mj.OutOfMemoryError, "values");
    return NULL;
  }
  manta_get_many(refs, (size_t)n, timeout_ms < 0 ? MANTA_FOREVER : timeout_ms,
                 vals);
  jobjectArray out = NULL;
  for (jsize i = 0; i < n; i++) {
    if (manta_value_kind(vals[i]) == MANTA_KIND_ERROR) {
      mj_throw_error_value(env, vals[i]); /* the first in input order */
      break;
    }
  }
  if (!(*env)->ExceptionCheck(env)) {
    out = (*env)->NewObjectArray(env, n, mj.Object, NULL);
  }
  for (jsize i = 0; out && i < n; i++) {
    jobject o = mj_to_java(env, vals[i]);
    if ((*env)->ExceptionCheck(env)) {
      out = NULL;
      break;
    }
    (*env)->SetObjectArrayElement(env, out, i, o);
    (*env)->DeleteLocalRef(env, o);
  }
  for (jsize i = 0; i < n; i++) {
    manta_value_free(vals[i]);
  }
  free(vals);
  free(refs);
  return out;
}

NATIVE(jbooleanArray, waitRefs)
(JNIEnv *env, jclass cls, jlongArray ids, jint num_returns, jlong timeout_ms) {
  (void)cls;
  jsize n;
  manta_ref *refs = ref_array(env, ids, &n);
  manta_ref *ready = refs ? malloc(((size_t)n + 1) * sizeof *ready) : NULL;
  manta_ref *not_ready = ready ? malloc(((size_t)n + 1) * sizeof *ready) : NULL;
  jbooleanArray out = NULL;
  if (refs && !not_ready) {
    mj_throw_class(env, mj.OutOfMemoryError, "wait");
  }
  size_t nready = 0, nnot = 0;
  if (not_ready &&
      check(env,
            manta_wait(refs, (size_t)n, (size_t)num_returns,
                       timeout_ms < 0 ? MANTA_FOREVER : timeout_ms, ready,
                       &nready, not_ready, &nnot),
            "wait") &&
      (out = (*env)->NewBooleanArray(env, n))) {
    /* ready[] is a subsequence of refs in input order. */
    jboolean *flags = (*env)->GetBooleanArrayElements(env, out, NULL);
    size_t k = 0;
    for (jsize i = 0; i < n; i++) {
      bool is_ready = k < nready && ready[k].id == refs[i].id;
      flags[i] = is_ready ? JNI_TRUE : JNI_FALSE;
      k += is_ready;
    }
    (*env)->ReleaseBooleanArrayElements(env, out, flags, 0);
  }
  free(not_ready);
  free(ready);
  free(refs);
  return out;
}

NATIVE(jboolean, cancel)(JNIEnv *env, jclass cls, jlong id) {
  (void)cls;
  manta_err err = manta_cancel((manta_ref){(uint64_t)id});
  if (err == MANTA_ERR_INVALID) {
    return JNI_FALSE; /* running or done */
  }
  return check(env, err, "cancel") ? JNI_TRUE : JNI_FALSE;
}

NATIVE(void, releaseRef)(JNIEnv *env, jclass cls, jlong id) {
  (void)env, (void)cls;
  /* Stale after a shutdown: nothing to release then. */
  (void)manta_ref_release((manta_ref){(uint64_t)id});
}

NATIVE(jstring, refString)(JNIEnv *env, jclass cls, jlong id) {
  (void)cls;
  char buf[64];
  if (manta_ref_string((manta_ref){(uint64_t)id}, buf, sizeof buf) !=
      MANTA_OK) {
    snprintf(buf, sizeof buf, "stale");
  }
  return (*env)->NewStringUTF(env, buf);
}

/* ---- placement groups ---------------------------------------------------- */

NATIVE(jlong, pgCreate)
(JNIEnv *env, jclass cls, jobject jbundles, jint strategy) {
  (void)cls;
  mj_conv_error cerr;
  manta_value *bundles = mj_to_manta(env, jbundles, &cerr);
  if (!bundles) {
    mj_throw_conv(env, &cerr, "the bundles");
    return 0;
  }
  manta_placement_group pg = {0};
  manta_err err =
      manta_placement_group_create(bundles, (manta_pg_strategy)strategy, &pg);
  manta_value_free(bundles);
  if (err == MANTA_ERR_INVALID) {
    mj_throw(env, err,
             "placement group: bundles must be a non-empty list of maps "
             "{resource name: quantity > 0}");
  } else {
    check(env, err, "placement group");
  }
  return (jlong)pg.id;
}

NATIVE(jboolean, pgWait)(JNIEnv *env, jclass cls, jlong id, jlong ms) {
  (void)cls;
  manta_value *why = NULL;
  manta_err err = manta_placement_group_wait(
      (manta_placement_group){(uint64_t)id}, ms < 0 ? MANTA_FOREVER : ms, &why);
  if (err != MANTA_OK && err != MANTA_ERR_TIMEOUT) {
    if (why) {
      mj_throw_error_value(env, why);
    } else {
      check(env, err, "placement group wait");
    }
  }
  manta_value_free(why);
  return err == MANTA_OK;
}

NATIVE(void, pgRemove)(JNIEnv *env, jclass cls, jlong id) {
  (void)cls;
  check(env,
        manta_placement_group_remove((manta_placement_group){(uint64_t)id}),
        "placement group remove");
}

NATIVE(void, pgCaptureChildTasks)
(JNIEnv *env, jclass cls, jlong id, jboolean on) {
  (void)cls;
  check(env,
        manta_placement_group_set_capture_child_tasks(
            (manta_placement_group){(uint64_t)id}, on ? 1 : 0),
        "placement group capture");
}

NATIVE(jobject, pgInfo)(JNIEnv *env, jclass cls, jlong id) {
  (void)cls;
  manta_value *v = NULL;
  if (!check(
          env,
          manta_placement_group_info((manta_placement_group){(uint64_t)id}, &v),
          "placement group info")) {
    return NULL;
  }
  jobject o = mj_to_java(env, v);
  manta_value_free(v);
  return o;
}

/* ---- actors -------------------------------------------------------------- */

NATIVE(jlong, actorCreate)
(JNIEnv *env, jclass cls, jbyteArray jname, jobjectArray jargs, jobject jopts) {
  (void)cls;
  manta_value *buf[ARGS_ON_STACK], **args;
  size_t n;
  mj_conv_error cerr;
  if (!mj_args_to_manta(env, jargs, buf, ARGS_ON_STACK, &args, &n, &cerr)) {
    mj_throw_conv(env, &cerr, "a constructor argument");
    return 0;
  }
  manta_call_options *opts = NULL;
  char nbuf[NAME_ON_STACK];
  char *name = NULL;
  manta_actor actor = {0};
  if (call_options(env, jopts, &opts) &&
      (name = c_name(env, jname, nbuf, sizeof nbuf))) {
    manta_err err = manta_actor_create(name, (const manta_value *const *)args,
                                       n, opts, &actor);
    if (err == MANTA_ERR_EXISTS) {
      mj_throw(env, err, "an actor with that name already exists");
    } else {
      check(env, err, "actor create");
    }
  }
  if (name && name != nbuf) {
    free(name);
  }
  manta_call_options_free(opts);
  mj_args_free(args, n, buf);
  return (jlong)actor.id;
}

NATIVE(jlong, actorCall)
(JNIEnv *env, jclass cls, jlong id, jstring jmethod, jobjectArray jargs) {
  (void)cls;
  char mbuf[NAME_ON_STACK];
  char *method = mj_cstring(env, jmethod, mbuf, sizeof mbuf, "method name");
  if (!method) {
    return 0;
  }
  manta_value *buf[ARGS_ON_STACK], **args;
  size_t n;
  mj_conv_error cerr;
  manta_ref ref = {0};
  if (!mj_args_to_manta(env, jargs, buf, ARGS_ON_STACK, &args, &n, &cerr)) {
    mj_throw_conv(env, &cerr, "a method argument");
  } else {
    check(env,
          manta_actor_call((manta_actor){(uint64_t)id}, method,
                           (const manta_value *const *)args, n, &ref),
          "actor call");
    mj_args_free(args, n, buf);
  }
  if (method != mbuf) {
    free(method);
  }
  return (jlong)ref.id;
}

/* A method call with nreturns return values: the refs' ids (NULL with an
 * exception pending on failure). */
NATIVE(jlongArray, actorCallReturns)
(JNIEnv *env, jclass cls, jlong id, jstring jmethod, jobjectArray jargs,
 jint nreturns) {
  (void)cls;
  if (nreturns <= 0) {
    mj_throw(env, MANTA_ERR_INVALID, "numReturns must be at least 1, not %d",
             (int)nreturns);
    return NULL;
  }
  char mbuf[NAME_ON_STACK];
  char *method = mj_cstring(env, jmethod, mbuf, sizeof mbuf, "method name");
  manta_ref *refs = calloc((size_t)nreturns, sizeof *refs);
  manta_value *buf[ARGS_ON_STACK], **args;
  size_t n;
  mj_conv_error cerr;
  jlongArray out = NULL;
  if (!method) {
    /* the exception is pending */
  } else if (!refs) {
    mj_throw_class(env, mj.OutOfMemoryError, "refs");
  } else if (!mj_args_to_manta(env, jargs, buf, ARGS_ON_STACK, &args, &n,
                               &cerr)) {
    mj_throw_conv(env, &cerr, "a method argument");
  } else {
    if (check(env,
              manta_actor_call_returns((manta_actor){(uint64_t)id}, method,
                                       (const manta_value *const *)args, n,
                                       refs, (size_t)nreturns),
              "actor call")) {
      out = ref_ids(env, refs, nreturns);
    }
    mj_args_free(args, n, buf);
  }
  if (method && method != mbuf) {
    free(method);
  }
  free(refs);
  return out;
}

NATIVE(jlong, actorLookup)(JNIEnv *env, jclass cls, jstring jname) {
  (void)cls;
  char buf[NAME_ON_STACK];
  char *name = mj_cstring(env, jname, buf, sizeof buf, "actor name");
  if (!name) {
    return 0;
  }
  manta_actor actor = {0};
  manta_err err = manta_actor_lookup(name, &actor);
  if (err == MANTA_ERR_NOT_FOUND) {
    mj_throw(env, err, "no actor is named \"%s\"", name);
  } else {
    check(env, err, "actor lookup");
  }
  if (name != buf) {
    free(name);
  }
  return (jlong)actor.id;
}

/* ---- get-or-create (docs/api.md, "Get or create") ------------------------ */

NATIVE(jlong, actorGetOrCreate)
(JNIEnv *env, jclass cls, jbyteArray jclass_name, jstring jname,
 jobjectArray jargs, jobject jopts) {
  (void)cls;
  char nbuf[NAME_ON_STACK], cbuf[NAME_ON_STACK];
  char *name = mj_cstring(env, jname, nbuf, sizeof nbuf, "actor name");
  if (!name) {
    return 0;
  }
  manta_value *buf[ARGS_ON_STACK], **args = NULL;
  size_t n = 0;
  mj_conv_error cerr;
  manta_call_options *opts = NULL;
  char *class_name = NULL;
  manta_actor actor = {0};
  if (!mj_args_to_manta(env, jargs, buf, ARGS_ON_STACK, &args, &n, &cerr)) {
    mj_throw_conv(env, &cerr, "a constructor argument");
    args = NULL;
  } else if (call_options(env, jopts, &opts) &&
             (class_name = c_name(env, jclass_name, cbuf, sizeof cbuf))) {
    manta_err err = manta_actor_get_or_create(name, class_name, args, n, opts,
                                              &actor, NULL);
    n = 0; /* the values were taken */
    if (err == MANTA_ERR_EXISTS) {
      mj_throw(env, err,
               "the actor named \"%s\" is not of class %s: the name is taken",
               name, class_name);
    } else {
      check(env, err, "actor get_or_create");
    }
  }
  if (args) {
    mj_args_free(args, n, buf); /* the array, and values not taken */
  }
  if (class_name && class_name != cbuf) {
    free(class_name);
  }
  if (name != nbuf) {
    free(name);
  }
  manta_call_options_free(opts);
  return (jlong)actor.id;
}

/* ---- the log level --------------------------------------------------------
 */

NATIVE(void, setLogLevel)(JNIEnv *env, jclass cls, jint level) {
  (void)cls;
  check(env, manta_log_set_level((manta_log_level)level), "log level");
}

NATIVE(jint, logLevel)(JNIEnv *env, jclass cls) {
  (void)env, (void)cls;
  return (jint)manta_log_get_level();
}

NATIVE(void, actorKill)(JNIEnv *env, jclass cls, jlong id) {
  (void)cls;
  check(env, manta_actor_kill((manta_actor){(uint64_t)id}), "actor kill");
}

NATIVE(void, releaseActor)(JNIEnv *env, jclass cls, jlong id) {
  (void)env, (void)cls;
  (void)manta_actor_release((manta_actor){(uint64_t)id});
}

/* ---- registration -------------------------------------------------------- */

static void registered(JNIEnv *env, manta_err err, const char *what,
                       const char *name) {
  if (err == MANTA_ERR_EXISTS) {
    mj_throw(env, err, "%s \"%s\" is already registered", what, name);
  } else if (err == MANTA_ERR_NOT_INITIALIZED) {
    mj_throw(env, err, "register %s \"%s\": call Manta.init() first", what,
             name);
  } else if (err != MANTA_OK) {
    mj_throw(env, err, "register %s \"%s\": %s", what, name,
             manta_strerror(err));
  }
}

NATIVE(void, registerFunction)
(JNIEnv *env, jclass cls, jstring jname, jint nargs, jint id) {
  (void)cls;
  char buf[NAME_ON_STACK];
  char *name = mj_cstring(env, jname, buf, sizeof buf, "function name");
  if (name) {
    registered(env, mj_register_function(name, nargs, id), "function", name);
    if (name != buf) {
      free(name);
    }
  }
}

NATIVE(void, registerClass)(JNIEnv *env, jclass cls, jstring jname, jint id) {
  (void)cls;
  char buf[NAME_ON_STACK];
  char *name = mj_cstring(env, jname, buf, sizeof buf, "class name");
  if (name) {
    registered(env, mj_register_class(name, id), "actor class", name);
    if (name != buf) {
      free(name);
    }
  }
}

NATIVE(void, registerMethod)
(JNIEnv *env, jclass cls, jstring jclass_name, jstring jmethod, jint nargs,
 jint id) {
  (void)cls;
  char cbuf[NAME_ON_STACK], mbuf[NAME_ON_STACK];
  char *c = mj_cstring(env, jclass_name, cbuf, sizeof cbuf, "class name");
  char *m =
      c ? mj_cstring(env, jmethod, mbuf, sizeof mbuf, "method name") : NULL;
  if (m) {
    registered(env, mj_register_method(c, m, nargs, id), "method", m);
  }
  if (c && c != cbuf) {
    free(c);
  }
  if (m && m != mbuf) {
    free(m);
  }
}

/* ---- diagnostics --------------------------------------------------------- */

NATIVE(jstring, errorName)(JNIEnv *env, jclass cls, jint code) {
  (void)cls;
  return (*env)->NewStringUTF(env, manta_errname((manta_err)code));
}

NATIVE(jstring, errorText)(JNIEnv *env, jclass cls, jint code) {
  (void)cls;
  return (*env)->NewStringUTF(env, manta_strerror((manta_err)code));
}

NATIVE(jobject, roundTrip)(JNIEnv *env, jclass cls, jobject value) {
  (void)cls;
  mj_conv_error cerr;
  manta_value *v = mj_to_manta(env, value, &cerr);
  if (!v) {
    mj_throw_conv(env, &cerr, "the value");
    return NULL;
  }
  jobject out = mj_to_java(env, v);
  manta_value_free(v);
  return out;
}

NATIVE(jstring, repr)(JNIEnv *env, jclass cls, jobject value) {
  (void)cls;
  mj_conv_error cerr;
  manta_value *v = mj_to_manta(env, value, &cerr);
  if (!v) {
    mj_throw_conv(env, &cerr, "the value");
    return NULL;
  }
  char *text = manta_value_repr(v);
  manta_value_free(v);
  if (!text) {
    mj_throw_class(env, mj.OutOfMemoryError, "repr");
    return NULL;
  }
  /* repr escapes control characters and NUL but passes UTF-8 through:
   * decode it as a manta string would be. */
  manta_value *s = manta_cstring(text);
  manta_free(text);
  jobject out = s ? mj_to_java(env, s) : NULL;
  manta_value_free(s);
  return out;
}

/* ---- for the other files of the glue (mj.h) ------------------------------ */

bool mj_call_options(JNIEnv *env, jobject jo, manta_call_options **out) {
  return call_options(env, jo, out);
}

char *mj_c_name(JNIEnv *env, jbyteArray jname, char *buf, size_t size) {
  return c_name(env, jname, buf, size);
}
