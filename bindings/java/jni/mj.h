/*
 * libmanta_jni internals: the Java binding's glue. It uses only manta.h,
 * so whatever it needs, the public ABI offers every program. Names: mj_
 * internal, Java_manta_* for the JNI entry points of manta.Native,
 * manta_module_init for C nodes that host a JVM (mj_embed.c).
 */
#ifndef MJ_H
#define MJ_H

#include <jni.h>
#include <manta.h>

#include <stdbool.h>

/* Classes, fields and methods the glue uses, resolved once per JVM by
 * mj_cache_init (JNI_OnLoad): FindClass on a native worker thread would
 * see only the system class loader. Classes are global refs. */
typedef struct mj_cache {
  JavaVM *vm;
  jclass Long, Integer, Short, Byte, Double, Float, Boolean, String, bytes,
      List, Map, MapEntry, ArrayList, LinkedHashMap, ObjectRef, ActorHandle,
      MantaException, Registry, CallOptions, Object, Class,
      IllegalStateException, IllegalArgumentException, NullPointerException,
      OutOfMemoryError;
  jfieldID Long_value, Integer_value, Short_value, Byte_value, Double_value,
      Float_value, Boolean_value;
  jmethodID Long_valueOf, Double_valueOf;
  jobject Boolean_TRUE, Boolean_FALSE;
  jmethodID List_toArray, Map_entrySet, Set_toArray, MapEntry_getKey,
      MapEntry_getValue, ArrayList_init, ArrayList_add, LinkedHashMap_init,
      Map_put, Class_getName, Object_toString;
  jfieldID ObjectRef_id, ObjectRef_closed, ActorHandle_id, ActorHandle_closed;
  jmethodID ObjectRef_init, ActorHandle_init;
  jmethodID MantaException_of, MantaException_rawCode,
      MantaException_errorMessage, MantaException_origin,
      MantaException_errorCause;
  jmethodID Registry_callFunction, Registry_newActor, Registry_callMethod;
  jfieldID CallOptions_numCpus, CallOptions_resourceNames,
      CallOptions_resourceQuantities, CallOptions_name,
      CallOptions_maxConcurrency, CallOptions_strategy,
      CallOptions_affinityNode, CallOptions_affinitySoft, CallOptions_pgId,
      CallOptions_pgBundle, CallOptions_maxRestarts, CallOptions_maxTaskRetries,
      CallOptions_maxRetries, CallOptions_retryExceptions;
} mj_cache;

extern mj_cache mj;

/* Fills mj; false (with a Java exception pending) if a class is missing. */
bool mj_cache_init(JNIEnv *env);

/*
 * The JNIEnv of this thread. A thread the JVM does not know (a native
 * worker) is attached as a daemon and stays attached until it exits, when
 * a thread-key destructor detaches it. NULL if the JVM is gone or refuses.
 */
JNIEnv *mj_env(void);

/* ---- values (mj_values.c) ------------------------------------------------ */

/* Why a Java object could not become a manta value. */
typedef struct mj_conv_error {
  manta_err code;      /* MANTA_ERR_TYPE, _TOO_DEEP, _NOMEM, _INVALID... */
  bool java_exception; /* a Java exception is pending (from user code) */
  char msg[512];
} mj_conv_error;

/* A Java object as a new manta value; NULL on failure, *err says why. */
manta_value *mj_to_manta(JNIEnv *env, jobject obj, mj_conv_error *err);
/* A manta value as a Java object (a local ref; NULL for null). On failure
 * returns NULL with a Java exception pending. */
jobject mj_to_java(JNIEnv *env, const manta_value *v);
/* An error value as a MantaException object (not thrown). */
jobject mj_error_to_java(JNIEnv *env, const manta_value *err);

/* Converts an Object[] of arguments. *out is args_buf when n fits in it,
 * else malloc'd; free with mj_args_free. On failure nothing is left. */
bool mj_args_to_manta(JNIEnv *env, jobjectArray args, manta_value **args_buf,
                      size_t buf_len, manta_value ***out, size_t *n,
                      mj_conv_error *err);
void mj_args_free(manta_value **args, size_t n, manta_value **args_buf);

/* A Java String as a NUL-terminated UTF-8 C string (malloc'd, or buf if it
 * fits). NULL with an exception pending if s is null, holds NUL, or memory
 * runs out; `what` names it in the message. */
char *mj_cstring(JNIEnv *env, jstring s, char *buf, size_t size,
                 const char *what);

/* ---- shared by the natives (mj_natives.c) -------------------------------- */

/* A CallOptions object as new call options (*out NULL for null); false
 * with an exception pending if one is bad. */
bool mj_call_options(JNIEnv *env, jobject jo, manta_call_options **out);
/* A name given as a byte[] of UTF-8 as a C string (buf if it fits, else
 * malloc'd); NULL with an exception pending. */
char *mj_c_name(JNIEnv *env, jbyteArray jname, char *buf, size_t size);

/* ---- throwing (mj_values.c) ---------------------------------------------- */

/* Throws MantaException (the subclass for code) with a formatted message. */
void mj_throw(JNIEnv *env, manta_err code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Throws the MantaException an error value describes. */
void mj_throw_error_value(JNIEnv *env, const manta_value *err);
/* Throws MantaException.ValueType (or what err says) for a failed
 * conversion of `what` ("argument 2", "the value"), unless a Java exception
 * is already pending. */
void mj_throw_conv(JNIEnv *env, const mj_conv_error *err, const char *what);
/* Throws `cls` (IllegalStateException...) with a message. */
void mj_throw_class(JNIEnv *env, jclass cls, const char *msg);

/* The pending Java exception as an error value (TASK_FAILED, "<class>:
 * <message>"), cleared. */
manta_value *mj_pending_exception_to_error(JNIEnv *env, const char *origin);

/* ---- registration and calls into Java (mj_callbacks.c) ------------------- */

/* Ids index manta.Registry's table; they travel as user_data. */
manta_err mj_register_function(const char *name, int nargs, int id);
manta_err mj_register_class(const char *name, int id);
manta_err mj_register_method(const char *cls, const char *method, int nargs,
                             int id);

#endif
