/* Loading the glue into a JVM: the class cache and threads attached to the
 * JVM. */
#include "mj.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

mj_cache mj;

static jclass global_class(JNIEnv *env, const char *name) {
  jclass local = (*env)->FindClass(env, name);
  if (!local) {
    return NULL;
  }
  jclass global = (*env)->NewGlobalRef(env, local);
  (*env)->DeleteLocalRef(env, local);
  return global;
}

static jobject global_static_object(JNIEnv *env, jclass cls, const char *name,
                                    const char *sig) {
  jfieldID f = (*env)->GetStaticFieldID(env, cls, name, sig);
  if (!f) {
    return NULL;
  }
  jobject local = (*env)->GetStaticObjectField(env, cls, f);
  jobject global = local ? (*env)->NewGlobalRef(env, local) : NULL;
  (*env)->DeleteLocalRef(env, local);
  return global;
}

/* Each lookup leaves a Java exception (NoSuchFieldError...) pending when
 * it fails; the first failure stops the chain. */
#define CLS(var, name)                                                         \
  if (!(mj.var = global_class(env, name)))                                     \
  return false
#define FLD(var, cls, name, sig)                                               \
  if (!(mj.var = (*env)->GetFieldID(env, mj.cls, name, sig)))                  \
  return false
#define MTH(var, cls, name, sig)                                               \
  if (!(mj.var = (*env)->GetMethodID(env, mj.cls, name, sig)))                 \
  return false
#define SMTH(var, cls, name, sig)                                              \
  if (!(mj.var = (*env)->GetStaticMethodID(env, mj.cls, name, sig)))           \
  return false

bool mj_cache_init(JNIEnv *env) {
  if (mj.Registry) {
    return true; /* one JVM per process: resolved once */
  }
  CLS(Long, "java/lang/Long");
  CLS(Integer, "java/lang/Integer");
  CLS(Short, "java/lang/Short");
  CLS(Byte, "java/lang/Byte");
  CLS(Double, "java/lang/Double");
  CLS(Float, "java/lang/Float");
  CLS(Boolean, "java/lang/Boolean");
  CLS(String, "java/lang/String");
  CLS(bytes, "[B");
  CLS(List, "java/util/List");
  CLS(Map, "java/util/Map");
  CLS(MapEntry, "java/util/Map$Entry");
  CLS(ArrayList, "java/util/ArrayList");
  CLS(LinkedHashMap, "java/util/LinkedHashMap");
  CLS(Object, "java/lang/Object");
  CLS(Class, "java/lang/Class");
  CLS(IllegalStateException, "java/lang/IllegalStateException");
  CLS(IllegalArgumentException, "java/lang/IllegalArgumentException");
  CLS(NullPointerException, "java/lang/NullPointerException");
  CLS(OutOfMemoryError, "java/lang/OutOfMemoryError");
  CLS(ObjectRef, "manta/ObjectRef");
  CLS(ActorHandle, "manta/ActorHandle");
  CLS(MantaException, "manta/MantaException");
  CLS(CallOptions, "manta/CallOptions");
  FLD(Long_value, Long, "value", "J");
  FLD(Integer_value, Integer, "value", "I");
  FLD(Short_value, Short, "value", "S");
  FLD(Byte_value, Byte, "value", "B");
  FLD(Double_value, Double, "value", "D");
  FLD(Float_value, Float, "value", "F");
  FLD(Boolean_value, Boolean, "value", "Z");
  SMTH(Long_valueOf, Long, "valueOf", "(J)Ljava/lang/Long;");
  SMTH(Double_valueOf, Double, "valueOf", "(D)Ljava/lang/Double;");
  if (!(mj.Boolean_TRUE = global_static_object(env, mj.Boolean, "TRUE",
                                               "Ljava/lang/Boolean;")) ||
      !(mj.Boolean_FALSE = global_static_object(env, mj.Boolean, "FALSE",
                                                "Ljava/lang/Boolean;"))) {
    return false;
  }
  MTH(List_toArray, List, "toArray", "()[Ljava/lang/Object;");
  MTH(Map_entrySet, Map, "entrySet", "()Ljava/util/Set;");
  jclass set = (*env)->FindClass(env, "java/util/Set");
  if (!set) {
    return false;
  }
  mj.Set_toArray =
      (*env)->GetMethodID(env, set, "toArray", "()[Ljava/lang/Object;");
  (*env)->DeleteLocalRef(env, set);
  if (!mj.Set_toArray) {
    return false;
  }
  MTH(MapEntry_getKey, MapEntry, "getKey", "()Ljava/lang/Object;");
  MTH(MapEntry_getValue, MapEntry, "getValue", "()Ljava/lang/Object;");
  MTH(ArrayList_init, ArrayList, "<init>", "(I)V");
  MTH(ArrayList_add, ArrayList, "add", "(Ljava/lang/Object;)Z");
  MTH(LinkedHashMap_init, LinkedHashMap, "<init>", "(I)V");
  MTH(Map_put, Map, "put",
      "(Ljava/lang/Object;Ljava/lang/Object;)Ljava/lang/Object;");
  MTH(Class_getName, Class, "getName", "()Ljava/lang/String;");
  MTH(Object_toString, Object, "toString", "()Ljava/lang/String;");
  FLD(ObjectRef_id, ObjectRef, "id", "J");
  FLD(ObjectRef_closed, ObjectRef, "closed", "Z");
  MTH(ObjectRef_init, ObjectRef, "<init>", "(J)V");
  FLD(ActorHandle_id, ActorHandle, "id", "J");
  FLD(ActorHandle_closed, ActorHandle, "closed", "Z");
  MTH(ActorHandle_init, ActorHandle, "<init>", "(J)V");
  SMTH(MantaException_of, MantaException, "of",
       "(ILjava/lang/String;Ljava/lang/String;Lmanta/MantaException;)"
       "Lmanta/MantaException;");
  MTH(MantaException_rawCode, MantaException, "rawCode", "()I");
  MTH(MantaException_errorMessage, MantaException, "errorMessage",
      "()Ljava/lang/String;");
  MTH(MantaException_origin, MantaException, "origin", "()Ljava/lang/String;");
  MTH(MantaException_errorCause, MantaException, "errorCause",
      "()Lmanta/MantaException;");
  FLD(CallOptions_numCpus, CallOptions, "numCpus", "D");
  FLD(CallOptions_resourceNames, CallOptions, "resourceNames",
      "[Ljava/lang/String;");
  FLD(CallOptions_resourceQuantities, CallOptions, "resourceQuantities", "[D");
  FLD(CallOptions_name, CallOptions, "name", "Ljava/lang/String;");
  FLD(CallOptions_maxConcurrency, CallOptions, "maxConcurrency", "I");
  FLD(CallOptions_strategy, CallOptions, "strategy", "I");
  FLD(CallOptions_affinityNode, CallOptions, "affinityNode",
      "Ljava/lang/String;");
  FLD(CallOptions_affinitySoft, CallOptions, "affinitySoft", "Z");
  FLD(CallOptions_pgId, CallOptions, "pgId", "J");
  FLD(CallOptions_pgBundle, CallOptions, "pgBundle", "I");
  FLD(CallOptions_maxRestarts, CallOptions, "maxRestarts", "I");
  FLD(CallOptions_maxTaskRetries, CallOptions, "maxTaskRetries", "I");
  FLD(CallOptions_maxRetries, CallOptions, "maxRetries", "I");
  FLD(CallOptions_retryExceptions, CallOptions, "retryExceptions", "Z");
  /* Last: mj.Registry set means the cache is complete. */
  jclass registry = global_class(env, "manta/Registry");
  if (!registry) {
    return false;
  }
  mj.Registry_callFunction =
      (*env)->GetStaticMethodID(env, registry, "callFunction",
                                "(I[Ljava/lang/Object;)Ljava/lang/Object;");
  mj.Registry_newActor = (*env)->GetStaticMethodID(
      env, registry, "newActor", "(I[Ljava/lang/Object;)Ljava/lang/Object;");
  mj.Registry_callMethod = (*env)->GetStaticMethodID(
      env, registry, "callMethod",
      "(ILjava/lang/Object;[Ljava/lang/Object;)Ljava/lang/Object;");
  if (!mj.Registry_callFunction || !mj.Registry_newActor ||
      !mj.Registry_callMethod) {
    return false;
  }
  mj.Registry = registry;
  return true;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
  (void)reserved;
  JNIEnv *env;
  if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) {
    return JNI_ERR;
  }
  mj.vm = vm;
  if (!mj_cache_init(env)) {
    /* The pending NoClassDefFoundError or NoSuchMethodError says what is
     * missing: manta.jar and libmanta_jni of different builds. */
    return JNI_ERR;
  }
  return JNI_VERSION_1_8;
}

/* ---- threads ------------------------------------------------------------- */

static pthread_key_t attached_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Set on threads this glue attached: they never return to Java, so their
 * env stays valid until the thread exits. */
static _Thread_local JNIEnv *attached_env;

static void detach_at_exit(void *vm) {
  attached_env = NULL;
  (*(JavaVM *)vm)->DetachCurrentThread((JavaVM *)vm);
}

static void make_key(void) {
  if (pthread_key_create(&attached_key, detach_at_exit) != 0) {
    fprintf(stderr, "manta_jni: cannot create a thread key; threads attached "
                    "to the JVM will not detach\n");
  }
}

JNIEnv *mj_env(void) {
  if (attached_env) {
    return attached_env;
  }
  JavaVM *vm = mj.vm;
  if (!vm) {
    return NULL;
  }
  JNIEnv *env = NULL;
  jint rc = (*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8);
  if (rc == JNI_OK) {
    return env; /* a Java thread, or one its creator attached */
  }
  if (rc != JNI_EDETACHED) {
    return NULL;
  }
  pthread_once(&key_once, make_key);
  JavaVMAttachArgs args = {JNI_VERSION_1_8, "manta-worker", NULL};
  if ((*vm)->AttachCurrentThreadAsDaemon(vm, (void **)&env, &args) != JNI_OK) {
    return NULL;
  }
  pthread_setspecific(attached_key, vm);
  attached_env = env;
  return env;
}
