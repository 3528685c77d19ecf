/*
 * Java code called by manta: the trampolines registered for Java functions,
 * actor constructors, methods and destructors. They run on native worker
 * threads, attached to the JVM on first use (mj_env). Each call runs in its
 * own local frame: these threads never return to Java, so nothing else
 * would free its local refs.
 */
#include "mj.h"

#include <stdint.h>

static manta_value *no_jvm(void) {
  return manta_error(MANTA_ERR_INTERNAL,
                     "this thread cannot attach to the JVM (is it exiting?)");
}

/* Arguments as an Object[]; NULL with an exception pending on failure. */
static jobjectArray args_to_java(JNIEnv *env, const manta_value *const *args,
                                 size_t nargs) {
  jobjectArray out = (*env)->NewObjectArray(env, (jsize)nargs, mj.Object, NULL);
  for (size_t i = 0; out && i < nargs; i++) {
    jobject o = mj_to_java(env, args[i]);
    if ((*env)->ExceptionCheck(env)) {
      return NULL;
    }
    (*env)->SetObjectArrayElement(env, out, (jsize)i, o);
    (*env)->DeleteLocalRef(env, o);
  }
  return out;
}

/* What the Java side returned (or threw) as the task's result. */
static manta_value *result_to_manta(JNIEnv *env, jobject r) {
  if ((*env)->ExceptionCheck(env)) {
    return mj_pending_exception_to_error(env, NULL);
  }
  mj_conv_error err;
  manta_value *v = mj_to_manta(env, r, &err);
  if (v) {
    return v;
  }
  if (err.java_exception) {
    return mj_pending_exception_to_error(env, NULL);
  }
  return manta_error(err.code, "the result cannot be a manta value: %s",
                     err.msg);
}

static bool enter(JNIEnv *env) {
  if ((*env)->PushLocalFrame(env, 32) != JNI_OK) {
    (*env)->ExceptionClear(env);
    return false;
  }
  return true;
}

static manta_value *function_trampoline(const manta_value *const *args,
                                        size_t nargs, void *user_data) {
  JNIEnv *env = mj_env();
  if (!env) {
    return no_jvm();
  }
  if (!enter(env)) {
    return manta_error(MANTA_ERR_NOMEM, "no room for JNI local refs");
  }
  manta_value *out;
  jobjectArray jargs = args_to_java(env, args, nargs);
  if (!jargs) {
    out = mj_pending_exception_to_error(env, NULL);
  } else {
    jobject r = (*env)->CallStaticObjectMethod(
        env, mj.Registry, mj.Registry_callFunction, (jint)(intptr_t)user_data,
        jargs);
    out = result_to_manta(env, r);
  }
  (*env)->PopLocalFrame(env, NULL);
  return out;
}

static void *ctor_trampoline(const manta_value *const *args, size_t nargs,
                             void *class_data, manta_value **error) {
  JNIEnv *env = mj_env();
  if (!env) {
    *error = no_jvm();
    return NULL;
  }
  if (!enter(env)) {
    *error = manta_error(MANTA_ERR_NOMEM, "no room for JNI local refs");
    return NULL;
  }
  void *state = NULL;
  jobjectArray jargs = args_to_java(env, args, nargs);
  jobject r = jargs ? (*env)->CallStaticObjectMethod(
                          env, mj.Registry, mj.Registry_newActor,
                          (jint)(intptr_t)class_data, jargs)
                    : NULL;
  if ((*env)->ExceptionCheck(env)) {
    *error = mj_pending_exception_to_error(env, NULL);
  } else if (!r || (*env)->IsInstanceOf(env, r, mj.MantaException)) {
    /* Registry returns the failure as a value; a constructor never
     * returns null. */
    *error = result_to_manta(env, r);
  } else if (!(state = (*env)->NewGlobalRef(env, r))) {
    *error = manta_error(MANTA_ERR_NOMEM, "no room for a JNI global ref");
  }
  (*env)->PopLocalFrame(env, NULL);
  return state;
}

static void dtor_trampoline(void *state, void *class_data) {
  (void)class_data;
  JNIEnv *env = state ? mj_env() : NULL;
  if (env) {
    (*env)->DeleteGlobalRef(env, (jobject)state);
  }
}

static manta_value *method_trampoline(void *state,
                                      const manta_value *const *args,
                                      size_t nargs, void *method_data) {
  JNIEnv *env = mj_env();
  if (!env) {
    return no_jvm();
  }
  if (!enter(env)) {
    return manta_error(MANTA_ERR_NOMEM, "no room for JNI local refs");
  }
  manta_value *out;
  jobjectArray jargs = args_to_java(env, args, nargs);
  if (!jargs) {
    out = mj_pending_exception_to_error(env, NULL);
  } else {
    jobject r = (*env)->CallStaticObjectMethod(
        env, mj.Registry, mj.Registry_callMethod, (jint)(intptr_t)method_data,
        (jobject)state, jargs);
    out = result_to_manta(env, r);
  }
  (*env)->PopLocalFrame(env, NULL);
  return out;
}

manta_err mj_register_function(const char *name, int nargs, int id) {
  return manta_register_function(name, function_trampoline, nargs,
                                 (void *)(intptr_t)id);
}

manta_err mj_register_class(const char *name, int id) {
  return manta_register_class(name, ctor_trampoline, dtor_trampoline,
                              (void *)(intptr_t)id);
}

manta_err mj_register_method(const char *cls, const char *method, int nargs,
                             int id) {
  return manta_register_method(cls, method, method_trampoline, nargs,
                               (void *)(intptr_t)id);
}
