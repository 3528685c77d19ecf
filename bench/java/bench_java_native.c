/*
 * The C half of bench/java/JavaBench.java: a no-op C function and C actor
 * for Java to call, and the C-caller loops (C -> C and C -> Java), run on
 * the Java thread that calls them, as a C driver's main thread would.
 * Each loop returns the seconds it took.
 */
#include <jni.h>
#include <manta.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NATIVE(ret, name) JNIEXPORT ret JNICALL Java_bench_JavaBench_##name

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static manta_value *noop(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return NULL;
}

static void *noop_new(const manta_value *const *args, size_t n, void *cd,
                      manta_value **err) {
  (void)args, (void)n, (void)cd, (void)err;
  return NULL;
}

static manta_value *noop_method(void *s, const manta_value *const *args,
                                size_t n, void *md) {
  (void)s, (void)args, (void)n, (void)md;
  return NULL;
}

static bool ok(JNIEnv *env, manta_err err, const char *what) {
  if (err == MANTA_OK) {
    return true;
  }
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, manta_strerror(err));
  jclass cls = (*env)->FindClass(env, "java/lang/IllegalStateException");
  if (cls) {
    (*env)->ThrowNew(env, cls, msg);
  }
  return false;
}

NATIVE(void, registerC)(JNIEnv *env, jclass cls) {
  (void)cls;
  if (ok(env, manta_register_function("bench_c_noop", noop, 0, NULL),
         "register bench_c_noop") &&
      ok(env, manta_register_class("CBenchNoop", noop_new, NULL, NULL),
         "register CBenchNoop")) {
    ok(env, manta_register_method("CBenchNoop", "noop", noop_method, 0, NULL),
       "register CBenchNoop.noop");
  }
}

/* Gets and releases refs in chunks, as bench/microbench.c does. */
static bool get_release_all(JNIEnv *env, manta_ref *refs, size_t n) {
  enum { CHUNK = 1024 };
  manta_value *vals[CHUNK];
  for (size_t i = 0; i < n; i += CHUNK) {
    size_t k = n - i < CHUNK ? n - i : CHUNK;
    manta_err err = manta_get_many(refs + i, k, MANTA_FOREVER, vals);
    for (size_t j = 0; j < k; j++) {
      manta_value_free(vals[j]);
      manta_ref_release(refs[i + j]);
    }
    if (!ok(env, err, "get_many")) {
      return false;
    }
  }
  return true;
}

NATIVE(jdouble, cTasksSync)(JNIEnv *env, jclass cls, jlong n) {
  (void)cls;
  double t0 = now_s();
  for (jlong i = 0; i < n; i++) {
    manta_ref r;
    manta_value *v = NULL;
    if (!ok(env, manta_submit("bench_c_noop", NULL, 0, NULL, &r), "submit")) {
      return 0;
    }
    manta_err err = manta_get(r, MANTA_FOREVER, &v);
    manta_value_free(v);
    manta_ref_release(r);
    if (!ok(env, err, "get")) {
      return 0;
    }
  }
  return now_s() - t0;
}

NATIVE(jdouble, cTasksAsync)(JNIEnv *env, jclass cls, jlong n) {
  (void)cls;
  manta_ref *refs = malloc((size_t)n * sizeof *refs);
  if (!refs) {
    ok(env, MANTA_ERR_NOMEM, "refs");
    return 0;
  }
  double t0 = now_s();
  for (jlong i = 0; i < n; i++) {
    if (!ok(env, manta_submit("bench_c_noop", NULL, 0, NULL, &refs[i]),
            "submit")) {
      get_release_all(env, refs, (size_t)i);
      free(refs);
      return 0;
    }
  }
  get_release_all(env, refs, (size_t)n);
  double t = now_s() - t0;
  free(refs);
  return t;
}

static bool new_actor(JNIEnv *env, jstring jcls, manta_actor *out) {
  const char *cls = (*env)->GetStringUTFChars(env, jcls, NULL);
  if (!cls) {
    return false;
  }
  bool created =
      ok(env, manta_actor_create(cls, NULL, 0, NULL, out), "actor create");
  (*env)->ReleaseStringUTFChars(env, jcls, cls);
  return created;
}

NATIVE(jdouble, cActorCallsSync)
(JNIEnv *env, jclass c, jstring jcls, jlong n) {
  (void)c;
  manta_actor a;
  if (!new_actor(env, jcls, &a)) {
    return 0;
  }
  double t0 = now_s();
  for (jlong i = 0; i < n; i++) {
    manta_ref r;
    manta_value *v = NULL;
    manta_err err = manta_actor_call(a, "noop", NULL, 0, &r);
    if (err == MANTA_OK) {
      err = manta_get(r, MANTA_FOREVER, &v);
      manta_value_free(v);
      manta_ref_release(r);
    }
    if (!ok(env, err, "actor call")) {
      break;
    }
  }
  double t = now_s() - t0;
  manta_actor_release(a);
  return t;
}

NATIVE(jdouble, cActorCallsAsync)
(JNIEnv *env, jclass c, jstring jcls, jlong n) {
  (void)c;
  manta_actor a;
  manta_ref *refs = malloc((size_t)n * sizeof *refs);
  if (!refs || !new_actor(env, jcls, &a)) {
    free(refs);
    return 0;
  }
  double t0 = now_s();
  jlong made = 0;
  for (; made < n; made++) {
    if (!ok(env, manta_actor_call(a, "noop", NULL, 0, &refs[made]),
            "actor call")) {
      break;
    }
  }
  get_release_all(env, refs, (size_t)made);
  double t = now_s() - t0;
  free(refs);
  manta_actor_release(a);
  return t;
}
