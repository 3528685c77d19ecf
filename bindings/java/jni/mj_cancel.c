/*
 * Cancelling, retries' context and the runtime context for Java
 * (docs/java.md, "Cancelling work", "Runtime context"): the natives of
 * Native and CancelWatch over manta_cancel_with, manta_actor_cancel,
 * manta_cancelled,
 * manta_current_* and manta_on_cancel, whose handler interrupts the Java
 * thread of the call through CancelWatch.interrupt(token).
 */
#include "mj.h"

#include <pthread.h>
#include <stdint.h>

#define NATIVE(ret, name) JNIEXPORT ret JNICALL Java_manta_Native_##name

/* CancelWatch and its interrupt(long), resolved on the first watch (a
 * Java thread in CancelWatch, so its class loader finds it); written once
 * under the mutex. */
static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static jclass watch_class;
static jmethodID watch_interrupt;

/* The call's cancel handler: interrupts its thread, if it still runs the
 * call. Runs on the cancelling thread (attached by mj_env if need be). */
static void interrupt_call(void *token) {
  JNIEnv *env = mj_env();
  pthread_mutex_lock(&watch_mu);
  jclass cls = watch_class;
  jmethodID m = watch_interrupt;
  pthread_mutex_unlock(&watch_mu);
  if (!env || !cls || !m) {
    return;
  }
  (*env)->CallStaticVoidMethod(env, cls, m, (jlong)(intptr_t)token);
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionClear(env); /* nothing to tell: the cancel stands */
  }
}

JNIEXPORT void JNICALL Java_manta_CancelWatch_watch(JNIEnv *env, jclass cls,
                                                    jlong token) {
  pthread_mutex_lock(&watch_mu);
  if (!watch_class) {
    jmethodID m = (*env)->GetStaticMethodID(env, cls, "interrupt", "(J)V");
    jclass global = m ? (*env)->NewGlobalRef(env, cls) : NULL;
    if (global) {
      watch_interrupt = m;
      watch_class = global;
    }
  }
  bool ready = watch_class != NULL;
  pthread_mutex_unlock(&watch_mu);
  if (ready) {
    /* Outside a call (never, from Registry) it is refused: nothing to do. */
    (void)manta_on_cancel(interrupt_call, (void *)(intptr_t)token);
  } else {
    (*env)->ExceptionClear(env);
  }
}

NATIVE(jboolean, cancelWith)(JNIEnv *env, jclass cls, jlong id, jint flags) {
  (void)cls;
  manta_err err = manta_cancel_with((manta_ref){(uint64_t)id}, (unsigned)flags);
  if (err == MANTA_ERR_INVALID) {
    return JNI_FALSE; /* done: nothing to cancel */
  }
  if (err != MANTA_OK) {
    mj_throw(env, err, "cancel: %s", manta_strerror(err));
    return JNI_FALSE;
  }
  return JNI_TRUE;
}

NATIVE(jboolean, actorCancel)(JNIEnv *env, jclass cls, jlong id) {
  (void)cls;
  manta_err err = manta_actor_cancel((manta_actor){(uint64_t)id});
  if (err == MANTA_ERR_INVALID) {
    return JNI_FALSE; /* its constructor started, or it went elsewhere */
  }
  if (err != MANTA_OK) {
    mj_throw(env, err, "cancelCreation: %s", manta_strerror(err));
    return JNI_FALSE;
  }
  return JNI_TRUE;
}

NATIVE(jboolean, cancelled)(JNIEnv *env, jclass cls) {
  (void)env, (void)cls;
  return manta_cancelled() ? JNI_TRUE : JNI_FALSE;
}

NATIVE(jint, currentAttempt)(JNIEnv *env, jclass cls) {
  (void)env, (void)cls;
  return manta_current_attempt();
}

/* The task's id (actor: the actor's), or null outside one. */
NATIVE(jstring, currentId)(JNIEnv *env, jclass cls, jboolean actor) {
  (void)cls;
  char buf[64];
  manta_err err = actor ? manta_current_actor_id(buf, sizeof buf)
                        : manta_current_task_id(buf, sizeof buf);
  return err == MANTA_OK ? (*env)->NewStringUTF(env, buf) : NULL;
}
