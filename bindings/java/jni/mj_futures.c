/*
 * ObjectRef.toCompletableFuture: a CompletableFuture completed by a
 * manta_when_ready callback, so a Java program waits for many refs without
 * a blocked thread per ref.
 *
 * The callback runs on whichever thread made the ref ready (a native worker,
 * attached to the JVM by mj_env) or on the registering thread if it was
 * ready already; it completes the future there, so dependent stages that
 * run synchronously run on that thread too (docs/java.md says so).
 */
#include "manta_Native.h"
#include "mj.h"

#include <pthread.h>

#define NATIVE(ret, name) JNIEXPORT ret JNICALL Java_manta_Native_##name

/* CompletableFuture's methods, resolved on the first call (from a Java
 * thread, so the class is found); written once under the mutex. */
static pthread_mutex_t methods_mu = PTHREAD_MUTEX_INITIALIZER;
static jmethodID future_complete, future_complete_exceptionally;

static bool resolve_methods(JNIEnv *env) {
  pthread_mutex_lock(&methods_mu);
  if (!future_complete) {
    jclass cls =
        (*env)->FindClass(env, "java/util/concurrent/CompletableFuture");
    if (cls) {
      future_complete_exceptionally = (*env)->GetMethodID(
          env, cls, "completeExceptionally", "(Ljava/lang/Throwable;)Z");
      jmethodID complete =
          (*env)->GetMethodID(env, cls, "complete", "(Ljava/lang/Object;)Z");
      (*env)->DeleteLocalRef(env, cls);
      if (future_complete_exceptionally) {
        future_complete = complete; /* last: the one tested */
      }
    }
  }
  bool ok = future_complete != NULL;
  pthread_mutex_unlock(&methods_mu);
  return ok;
}

/* Completes the future (a global ref, deleted here) with the value, or
 * exceptionally with the MantaException an error value describes (or the
 * exception converting the value raised). */
static void on_ready(void *arg, manta_ref ref, manta_err err,
                     manta_value *value) {
  (void)ref;
  jobject future = arg;
  JNIEnv *env = mj_env();
  if (!env) {
    return; /* the JVM is gone: nobody can wait for the future */
  }
  if ((*env)->PushLocalFrame(env, 16) != JNI_OK) {
    (*env)->ExceptionClear(env);
    (*env)->DeleteGlobalRef(env, future);
    return;
  }
  /* A Java thread calling in (ready already, or manta_shutdown) may have
   * an exception pending from its own work: keep it for after. */
  jthrowable before = (*env)->ExceptionOccurred(env);
  (*env)->ExceptionClear(env);
  if (err == MANTA_OK) {
    jobject v = mj_to_java(env, value);
    if ((*env)->ExceptionCheck(env)) {
      jthrowable t = (*env)->ExceptionOccurred(env);
      (*env)->ExceptionClear(env);
      (*env)->CallBooleanMethod(env, future, future_complete_exceptionally, t);
    } else {
      (*env)->CallBooleanMethod(env, future, future_complete, v);
    }
  } else {
    jobject e = mj_error_to_java(env, value);
    if (!e) {
      e = (*env)->ExceptionOccurred(env);
    }
    (*env)->ExceptionClear(env);
    (*env)->CallBooleanMethod(env, future, future_complete_exceptionally, e);
  }
  /* A dependent stage that threw is the future's business, not this
   * thread's. */
  (*env)->ExceptionClear(env);
  (*env)->DeleteGlobalRef(env, future);
  if (before) {
    (*env)->Throw(env, before);
  }
  (*env)->PopLocalFrame(env, NULL);
}

NATIVE(void, whenReady)(JNIEnv *env, jclass cls, jlong id, jobject future) {
  (void)cls;
  if (!resolve_methods(env)) {
    mj_throw_class(env, mj.IllegalStateException,
                   "CompletableFuture's methods are missing");
    return;
  }
  jobject global = (*env)->NewGlobalRef(env, future);
  if (!global) {
    mj_throw_class(env, mj.OutOfMemoryError, "a global ref for the future");
    return;
  }
  manta_err err = manta_when_ready((manta_ref){(uint64_t)id}, on_ready, global);
  if (err != MANTA_OK) {
    (*env)->DeleteGlobalRef(env, global);
    mj_throw(env, err, "toCompletableFuture: %s", manta_strerror(err));
  }
}
