/*
 * Values between Java and manta (docs/java.md, "Values"):
 *
 *   null <-> null              Boolean <-> bool
 *   Long, Integer, Short, Byte -> int -> Long
 *   Double, Float -> double -> Double
 *   String <-> string (UTF-8)  byte[] <-> bytes
 *   List <-> list (ArrayList)  Map<String,?> <-> map (LinkedHashMap)
 *   ObjectRef <-> ref          ActorHandle <-> actor
 *   MantaException <-> error
 *
 * Nesting is limited to MANTA_MAX_DEPTH both ways, which also stops a list
 * that contains itself. Local refs are deleted as soon as each element is
 * done: a long list must not exhaust a native thread's local frame.
 */
#include "mj.h"
#include "mj_utf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------- */

static void conv_fail(mj_conv_error *err, manta_err code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void conv_fail(mj_conv_error *err, manta_err code, const char *fmt,
                      ...) {
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
}

static bool java_failed(JNIEnv *env, mj_conv_error *err) {
  if ((*env)->ExceptionCheck(env)) {
    err->code = MANTA_ERR_INTERNAL;
    err->java_exception = true;
    snprintf(err->msg, sizeof err->msg, "a Java exception was thrown");
    return true;
  }
  return false;
}

/* The class name of o into buf ("?" if it cannot be had). */
static void class_name(JNIEnv *env, jobject o, char *buf, size_t size) {
  snprintf(buf, size, "?");
  jclass c = (*env)->GetObjectClass(env, o);
  jstring name = (*env)->CallObjectMethod(env, c, mj.Class_getName);
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionClear(env);
  } else if (name) {
    const char *s = (*env)->GetStringUTFChars(env, name, NULL);
    if (s) {
      snprintf(buf, size, "%s", s);
      (*env)->ReleaseStringUTFChars(env, name, s);
    }
  }
  (*env)->DeleteLocalRef(env, name);
  (*env)->DeleteLocalRef(env, c);
}

/* ---- strings ------------------------------------------------------------ */

enum { STACK_UNITS = 256 };

/* The UTF-8 of a Java string into a buffer: buf when it fits, else
 * malloc'd. NULL only when memory runs out. */
static char *utf8_of(JNIEnv *env, jstring s, char *buf, size_t size,
                     size_t *len) {
  jsize n = (*env)->GetStringLength(env, s);
  size_t need = 3 * (size_t)n + 1;
  char *out = need <= size ? buf : malloc(need);
  if (!out) {
    return NULL;
  }
  if (n <= STACK_UNITS) {
    jchar units[STACK_UNITS];
    (*env)->GetStringRegion(env, s, 0, n, units);
    *len = mj_utf16_to_utf8(units, (size_t)n, out);
  } else {
    const jchar *units = (*env)->GetStringCritical(env, s, NULL);
    if (!units) {
      if (out != buf) {
        free(out);
      }
      return NULL;
    }
    *len = mj_utf16_to_utf8(units, (size_t)n, out);
    (*env)->ReleaseStringCritical(env, s, units);
  }
  out[*len] = '\0';
  return out;
}

static manta_value *string_to_manta(JNIEnv *env, jstring s,
                                    mj_conv_error *err) {
  char buf[3 * STACK_UNITS + 1];
  size_t len;
  char *utf8 = utf8_of(env, s, buf, sizeof buf, &len);
  if (!utf8) {
    (*env)->ExceptionClear(env);
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a String");
    return NULL;
  }
  manta_value *v = manta_string(utf8, len);
  if (utf8 != buf) {
    free(utf8);
  }
  if (!v) {
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a String");
  }
  return v;
}

char *mj_cstring(JNIEnv *env, jstring s, char *buf, size_t size,
                 const char *what) {
  if (!s) {
    mj_throw_class(env, mj.NullPointerException, what);
    return NULL;
  }
  size_t len;
  char *out = utf8_of(env, s, buf, size, &len);
  if (!out) {
    mj_throw_class(env, mj.OutOfMemoryError, "converting a String");
    return NULL;
  }
  if (strlen(out) != len) {
    if (out != buf) {
      free(out);
    }
    char msg[200];
    snprintf(msg, sizeof msg, "%s must not contain NUL", what);
    mj_throw_class(env, mj.IllegalArgumentException, msg);
    return NULL;
  }
  return out;
}

static jstring string_to_java(JNIEnv *env, const char *s, size_t len) {
  if (mj_utf8_is_plain_ascii(s, len)) {
    return (*env)->NewStringUTF(env, s); /* s is NUL-terminated */
  }
  jchar stack[STACK_UNITS];
  jchar *units = len <= STACK_UNITS ? stack : malloc(len * sizeof *units);
  if (!units) {
    mj_throw_class(env, mj.OutOfMemoryError, "converting a string");
    return NULL;
  }
  size_t n = mj_utf8_to_utf16(s, len, units);
  jstring out = (*env)->NewString(env, units, (jsize)n);
  if (units != stack) {
    free(units);
  }
  return out;
}

/* ---- Java -> manta ------------------------------------------------------ */

static manta_value *to_manta(JNIEnv *env, jobject o, int depth,
                             mj_conv_error *err);

static bool too_deep(int depth, mj_conv_error *err) {
  if (depth >= MANTA_MAX_DEPTH) {
    conv_fail(err, MANTA_ERR_TOO_DEEP,
              "nesting deeper than %d lists, maps or errors (a list or map "
              "that contains itself?)",
              MANTA_MAX_DEPTH);
    return true;
  }
  return false;
}

static manta_value *list_to_manta(JNIEnv *env, jobject list, int depth,
                                  mj_conv_error *err) {
  if (too_deep(depth, err)) {
    return NULL;
  }
  /* toArray: one call instead of two per element, and linear for any
   * List, LinkedList included. */
  jobjectArray items = (*env)->CallObjectMethod(env, list, mj.List_toArray);
  if (java_failed(env, err)) {
    return NULL;
  }
  manta_value *out = manta_list();
  if (!out) {
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a List");
    (*env)->DeleteLocalRef(env, items);
    return NULL;
  }
  jsize n = (*env)->GetArrayLength(env, items);
  for (jsize i = 0; i < n; i++) {
    jobject item = (*env)->GetObjectArrayElement(env, items, i);
    manta_value *v = to_manta(env, item, depth + 1, err);
    (*env)->DeleteLocalRef(env, item);
    if (!v || manta_list_push(out, v) != MANTA_OK) {
      if (v) {
        conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a List");
      } else {
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, " (list item %d)",
                 (int)i);
      }
      manta_value_free(out);
      (*env)->DeleteLocalRef(env, items);
      return NULL;
    }
  }
  (*env)->DeleteLocalRef(env, items);
  return out;
}

static manta_value *map_to_manta(JNIEnv *env, jobject map, int depth,
                                 mj_conv_error *err) {
  if (too_deep(depth, err)) {
    return NULL;
  }
  jobject set = (*env)->CallObjectMethod(env, map, mj.Map_entrySet);
  if (java_failed(env, err)) {
    return NULL;
  }
  jobjectArray entries = (*env)->CallObjectMethod(env, set, mj.Set_toArray);
  (*env)->DeleteLocalRef(env, set);
  if (java_failed(env, err)) {
    return NULL;
  }
  manta_value *out = manta_map();
  jsize n = (*env)->GetArrayLength(env, entries);
  bool ok = out != NULL;
  if (!ok) {
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a Map");
  }
  for (jsize i = 0; ok && i < n; i++) {
    jobject entry = (*env)->GetObjectArrayElement(env, entries, i);
    jobject key = (*env)->CallObjectMethod(env, entry, mj.MapEntry_getKey);
    jobject value =
        java_failed(env, err)
            ? NULL
            : (*env)->CallObjectMethod(env, entry, mj.MapEntry_getValue);
    ok = !java_failed(env, err);
    char keybuf[256], *ckey = NULL;
    size_t klen = 0;
    if (ok && (!key || !(*env)->IsInstanceOf(env, key, mj.String))) {
      char cls[200];
      if (key) {
        class_name(env, key, cls, sizeof cls);
      }
      conv_fail(err, MANTA_ERR_TYPE,
                "a map key must be a String, got %s (keys of manta maps are "
                "strings)",
                key ? cls : "null");
      ok = false;
    }
    if (ok && !(ckey = utf8_of(env, key, keybuf, sizeof keybuf, &klen))) {
      conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a map key");
      ok = false;
    }
    if (ok && strlen(ckey) != klen) {
      conv_fail(err, MANTA_ERR_TYPE,
                "map key \"%s\" contains NUL, which manta map keys cannot",
                ckey);
      ok = false;
    }
    manta_value *v = ok ? to_manta(env, value, depth + 1, err) : NULL;
    if (ok && !v) {
      size_t used = strlen(err->msg);
      snprintf(err->msg + used, sizeof err->msg - used, " (map key \"%s\")",
               ckey);
      ok = false;
    }
    if (ok && manta_map_put(out, ckey, v) != MANTA_OK) {
      conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a Map");
      ok = false;
    }
    if (ckey && ckey != keybuf) {
      free(ckey);
    }
    (*env)->DeleteLocalRef(env, key);
    (*env)->DeleteLocalRef(env, value);
    (*env)->DeleteLocalRef(env, entry);
  }
  (*env)->DeleteLocalRef(env, entries);
  if (!ok) {
    manta_value_free(out);
    return NULL;
  }
  return out;
}

static manta_value *bytes_to_manta(JNIEnv *env, jbyteArray a,
                                   mj_conv_error *err) {
  jsize n = (*env)->GetArrayLength(env, a);
  if (n == 0) {
    return manta_bytes("", 0);
  }
  void *p = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
  if (!p) {
    (*env)->ExceptionClear(env);
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a byte[]");
    return NULL;
  }
  manta_value *v = manta_bytes(p, (size_t)n);
  (*env)->ReleasePrimitiveArrayCritical(env, a, p, JNI_ABORT);
  if (!v) {
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting a byte[]");
  }
  return v;
}

static manta_value *error_to_manta(JNIEnv *env, jobject e, int depth,
                                   mj_conv_error *err) {
  if (too_deep(depth, err)) {
    return NULL;
  }
  /* Each call runs Java code (a subclass may override): check each. */
  jint code = (*env)->CallIntMethod(env, e, mj.MantaException_rawCode);
  jstring msg = NULL, origin = NULL;
  jobject cause = NULL;
  if (!java_failed(env, err)) {
    msg = (*env)->CallObjectMethod(env, e, mj.MantaException_errorMessage);
  }
  if (!err->java_exception && !java_failed(env, err)) {
    origin = (*env)->CallObjectMethod(env, e, mj.MantaException_origin);
  }
  if (!err->java_exception && !java_failed(env, err)) {
    cause = (*env)->CallObjectMethod(env, e, mj.MantaException_errorCause);
  }
  manta_value *out = NULL;
  if (!err->java_exception && !java_failed(env, err) && msg && origin) {
    char mbuf[512], obuf[256];
    size_t mlen, olen;
    char *m = utf8_of(env, msg, mbuf, sizeof mbuf, &mlen);
    char *o = utf8_of(env, origin, obuf, sizeof obuf, &olen);
    /* Messages and origins are C strings: an embedded NUL ends them. */
    out = m && o ? manta_error((manta_err)code, "%s", m) : NULL;
    if (out && o[0] && manta_error_set_origin(out, o) != MANTA_OK) {
      manta_value_free(out);
      out = NULL;
    }
    if (!out) {
      conv_fail(err, MANTA_ERR_NOMEM, "out of memory converting an error");
    }
    if (m && m != mbuf) {
      free(m);
    }
    if (o && o != obuf) {
      free(o);
    }
  }
  if (out && cause) {
    manta_value *c = to_manta(env, cause, depth + 1, err);
    if (!c || manta_error_set_cause(out, c) != MANTA_OK) {
      manta_value_free(out);
      out = NULL;
    }
  }
  (*env)->DeleteLocalRef(env, msg);
  (*env)->DeleteLocalRef(env, origin);
  (*env)->DeleteLocalRef(env, cause);
  return out;
}

static manta_value *to_manta(JNIEnv *env, jobject o, int depth,
                             mj_conv_error *err) {
  manta_value *v;
  if (!o) {
    v = manta_null();
  } else if ((*env)->IsInstanceOf(env, o, mj.Long)) {
    v = manta_int((*env)->GetLongField(env, o, mj.Long_value));
  } else if ((*env)->IsInstanceOf(env, o, mj.String)) {
    return string_to_manta(env, o, err);
  } else if ((*env)->IsInstanceOf(env, o, mj.Integer)) {
    v = manta_int((*env)->GetIntField(env, o, mj.Integer_value));
  } else if ((*env)->IsInstanceOf(env, o, mj.Double)) {
    v = manta_double((*env)->GetDoubleField(env, o, mj.Double_value));
  } else if ((*env)->IsInstanceOf(env, o, mj.Boolean)) {
    v = manta_bool((*env)->GetBooleanField(env, o, mj.Boolean_value));
  } else if ((*env)->IsInstanceOf(env, o, mj.bytes)) {
    return bytes_to_manta(env, o, err);
  } else if ((*env)->IsInstanceOf(env, o, mj.List)) {
    return list_to_manta(env, o, depth, err);
  } else if ((*env)->IsInstanceOf(env, o, mj.Map)) {
    return map_to_manta(env, o, depth, err);
  } else if ((*env)->IsInstanceOf(env, o, mj.ObjectRef)) {
    if ((*env)->GetBooleanField(env, o, mj.ObjectRef_closed)) {
      conv_fail(err, MANTA_ERR_BAD_HANDLE, "an ObjectRef that was closed");
      return NULL;
    }
    manta_ref r = {(uint64_t)(*env)->GetLongField(env, o, mj.ObjectRef_id)};
    v = manta_ref_value(r);
  } else if ((*env)->IsInstanceOf(env, o, mj.ActorHandle)) {
    if ((*env)->GetBooleanField(env, o, mj.ActorHandle_closed)) {
      conv_fail(err, MANTA_ERR_BAD_HANDLE, "an ActorHandle that was closed");
      return NULL;
    }
    manta_actor a = {(uint64_t)(*env)->GetLongField(env, o, mj.ActorHandle_id)};
    v = manta_actor_value(a);
  } else if ((*env)->IsInstanceOf(env, o, mj.MantaException)) {
    return error_to_manta(env, o, depth, err);
  } else if ((*env)->IsInstanceOf(env, o, mj.Short)) {
    v = manta_int((*env)->GetShortField(env, o, mj.Short_value));
  } else if ((*env)->IsInstanceOf(env, o, mj.Byte)) {
    v = manta_int((*env)->GetByteField(env, o, mj.Byte_value));
  } else if ((*env)->IsInstanceOf(env, o, mj.Float)) {
    v = manta_double((*env)->GetFloatField(env, o, mj.Float_value));
  } else {
    char cls[200];
    class_name(env, o, cls, sizeof cls);
    conv_fail(err, MANTA_ERR_TYPE,
              "a %s cannot be a manta value (manta takes null, Boolean, "
              "Long, Integer, Short, Byte, Double, Float, String, byte[], "
              "List, Map<String,?>, ObjectRef, ActorHandle, MantaException)",
              cls);
    return NULL;
  }
  if (!v) {
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory");
  }
  return v;
}

manta_value *mj_to_manta(JNIEnv *env, jobject obj, mj_conv_error *err) {
  err->code = MANTA_OK;
  err->java_exception = false;
  err->msg[0] = '\0';
  return to_manta(env, obj, 0, err);
}

bool mj_args_to_manta(JNIEnv *env, jobjectArray args, manta_value **args_buf,
                      size_t buf_len, manta_value ***out, size_t *n,
                      mj_conv_error *err) {
  err->code = MANTA_OK;
  err->java_exception = false;
  err->msg[0] = '\0';
  size_t count = args ? (size_t)(*env)->GetArrayLength(env, args) : 0;
  manta_value **vals =
      count <= buf_len ? args_buf : malloc(count * sizeof *vals);
  if (!vals) {
    conv_fail(err, MANTA_ERR_NOMEM, "out of memory for %zu arguments", count);
    return false;
  }
  for (size_t i = 0; i < count; i++) {
    jobject a = (*env)->GetObjectArrayElement(env, args, (jsize)i);
    vals[i] = to_manta(env, a, 0, err);
    (*env)->DeleteLocalRef(env, a);
    if (!vals[i]) {
      size_t used = strlen(err->msg);
      snprintf(err->msg + used, sizeof err->msg - used, " (argument %zu)",
               i + 1);
      mj_args_free(vals, i, args_buf);
      return false;
    }
  }
  *out = vals;
  *n = count;
  return true;
}

void mj_args_free(manta_value **args, size_t n, manta_value **args_buf) {
  for (size_t i = 0; i < n; i++) {
    manta_value_free(args[i]);
  }
  if (args != args_buf) {
    free(args);
  }
}

/* ---- manta -> Java ------------------------------------------------------ */

static jobject to_java(JNIEnv *env, const manta_value *v, int depth);

static bool java_too_deep(JNIEnv *env, int depth) {
  if (depth >= MANTA_MAX_DEPTH) {
    mj_throw(env, MANTA_ERR_TOO_DEEP,
             "a value nested deeper than %d lists, maps or errors cannot "
             "come to Java",
             MANTA_MAX_DEPTH);
    return true;
  }
  return false;
}

static jobject list_to_java(JNIEnv *env, const manta_value *v, int depth) {
  if (java_too_deep(env, depth)) {
    return NULL;
  }
  size_t n = 0;
  manta_len(v, &n);
  jobject list =
      (*env)->NewObject(env, mj.ArrayList, mj.ArrayList_init, (jint)n);
  for (size_t i = 0; list && i < n; i++) {
    const manta_value *item = NULL;
    manta_list_at(v, i, &item);
    jobject o = to_java(env, item, depth + 1);
    if ((*env)->ExceptionCheck(env)) {
      (*env)->DeleteLocalRef(env, list);
      return NULL;
    }
    (*env)->CallBooleanMethod(env, list, mj.ArrayList_add, o);
    (*env)->DeleteLocalRef(env, o);
    if ((*env)->ExceptionCheck(env)) {
      (*env)->DeleteLocalRef(env, list);
      return NULL;
    }
  }
  return list;
}

static jobject map_to_java(JNIEnv *env, const manta_value *v, int depth) {
  if (java_too_deep(env, depth)) {
    return NULL;
  }
  size_t n = 0;
  manta_len(v, &n);
  /* Capacity so that n entries fit under the default load factor. */
  jint cap = (jint)(n + n / 3 + 1);
  jobject map =
      (*env)->NewObject(env, mj.LinkedHashMap, mj.LinkedHashMap_init, cap);
  for (size_t i = 0; map && i < n; i++) {
    const char *key = NULL;
    const manta_value *item = NULL;
    manta_map_at(v, i, &key, &item);
    jstring k = string_to_java(env, key, strlen(key));
    jobject o = k ? to_java(env, item, depth + 1) : NULL;
    if (!(*env)->ExceptionCheck(env)) {
      jobject old = (*env)->CallObjectMethod(env, map, mj.Map_put, k, o);
      (*env)->DeleteLocalRef(env, old);
    }
    (*env)->DeleteLocalRef(env, k);
    (*env)->DeleteLocalRef(env, o);
    if ((*env)->ExceptionCheck(env)) {
      (*env)->DeleteLocalRef(env, map);
      return NULL;
    }
  }
  return map;
}

static jobject error_to_java(JNIEnv *env, const manta_value *e, int depth) {
  if (java_too_deep(env, depth)) {
    return NULL;
  }
  const manta_value *cause = manta_error_cause(e);
  jobject jcause = NULL;
  if (cause && manta_value_kind(cause) == MANTA_KIND_ERROR) {
    jcause = error_to_java(env, cause, depth + 1);
  } else if (cause) {
    /* A cause that is not an error (the API allows any value) becomes an
     * error whose message is its repr. */
    char *text = manta_value_repr(cause);
    manta_value *wrapped =
        manta_error(MANTA_ERR_INTERNAL, "%s", text ? text : "?");
    manta_free(text);
    if (wrapped) {
      jcause = error_to_java(env, wrapped, depth + 1);
      manta_value_free(wrapped);
    }
  }
  if ((*env)->ExceptionCheck(env)) {
    return NULL;
  }
  const char *m = manta_error_message(e), *o = manta_error_origin(e);
  jstring jm = string_to_java(env, m, strlen(m));
  jstring jo = jm ? string_to_java(env, o, strlen(o)) : NULL;
  jobject out = NULL;
  if (jo) {
    out = (*env)->CallStaticObjectMethod(
        env, mj.MantaException, mj.MantaException_of, (jint)manta_error_code(e),
        jm, jo, jcause);
  }
  (*env)->DeleteLocalRef(env, jm);
  (*env)->DeleteLocalRef(env, jo);
  (*env)->DeleteLocalRef(env, jcause);
  return (*env)->ExceptionCheck(env) ? NULL : out;
}

static jobject to_java(JNIEnv *env, const manta_value *v, int depth) {
  switch (manta_value_kind(v)) {
  case MANTA_KIND_NULL:
    return NULL;
  case MANTA_KIND_BOOL: {
    int b = 0;
    manta_get_bool(v, &b);
    return (*env)->NewLocalRef(env, b ? mj.Boolean_TRUE : mj.Boolean_FALSE);
  }
  case MANTA_KIND_INT: {
    int64_t i = 0;
    manta_get_int(v, &i);
    return (*env)->CallStaticObjectMethod(env, mj.Long, mj.Long_valueOf,
                                          (jlong)i);
  }
  case MANTA_KIND_DOUBLE: {
    double d = 0;
    manta_get_double(v, &d);
    return (*env)->CallStaticObjectMethod(env, mj.Double, mj.Double_valueOf,
                                          (jdouble)d);
  }
  case MANTA_KIND_STRING: {
    const char *s = NULL;
    size_t len = 0;
    manta_get_string(v, &s, &len);
    return string_to_java(env, s, len);
  }
  case MANTA_KIND_BYTES: {
    const void *p = NULL;
    size_t len = 0;
    manta_get_bytes(v, &p, &len);
    if (len > INT32_MAX - 8) {
      mj_throw(env, MANTA_ERR_RANGE,
               "%zu bytes do not fit in a Java byte[] (at most 2^31-9)", len);
      return NULL;
    }
    jbyteArray a = (*env)->NewByteArray(env, (jsize)len);
    if (a && len) {
      (*env)->SetByteArrayRegion(env, a, 0, (jsize)len, p);
    }
    return a;
  }
  case MANTA_KIND_LIST:
    return list_to_java(env, v, depth);
  case MANTA_KIND_MAP:
    return map_to_java(env, v, depth);
  case MANTA_KIND_REF: {
    manta_ref r, mine;
    manta_get_ref(v, &r);
    if (manta_ref_clone(r, &mine) != MANTA_OK) {
      mj_throw(env, MANTA_ERR_BAD_HANDLE,
               "a ref in the value is stale (the runtime restarted?)");
      return NULL;
    }
    jobject o =
        (*env)->NewObject(env, mj.ObjectRef, mj.ObjectRef_init, (jlong)mine.id);
    if (!o) {
      manta_ref_release(mine);
    }
    return o;
  }
  case MANTA_KIND_ACTOR: {
    manta_actor a, mine;
    manta_get_actor(v, &a);
    if (manta_actor_clone(a, &mine) != MANTA_OK) {
      mj_throw(env, MANTA_ERR_BAD_HANDLE,
               "an actor handle in the value is stale");
      return NULL;
    }
    jobject o = (*env)->NewObject(env, mj.ActorHandle, mj.ActorHandle_init,
                                  (jlong)mine.id);
    if (!o) {
      manta_actor_release(mine);
    }
    return o;
  }
  case MANTA_KIND_ERROR:
    return error_to_java(env, v, depth);
  }
  mj_throw(env, MANTA_ERR_TYPE, "a value of unknown kind %d",
           (int)manta_value_kind(v));
  return NULL;
}

jobject mj_to_java(JNIEnv *env, const manta_value *v) {
  return to_java(env, v, 0);
}

jobject mj_error_to_java(JNIEnv *env, const manta_value *err) {
  return error_to_java(env, err, 0);
}

/* ---- throwing ----------------------------------------------------------- */

void mj_throw_class(JNIEnv *env, jclass cls, const char *msg) {
  if (!(*env)->ExceptionCheck(env)) {
    (*env)->ThrowNew(env, cls, msg);
  }
}

void mj_throw(JNIEnv *env, manta_err code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  manta_value *e = manta_error(code, "%s", msg);
  if (!e) {
    mj_throw_class(env, mj.OutOfMemoryError, msg);
    return;
  }
  mj_throw_error_value(env, e);
  manta_value_free(e);
}

void mj_throw_error_value(JNIEnv *env, const manta_value *err) {
  if ((*env)->ExceptionCheck(env)) {
    return;
  }
  jobject e = mj_error_to_java(env, err);
  if (e) {
    (*env)->Throw(env, e);
    (*env)->DeleteLocalRef(env, e);
  }
}

void mj_throw_conv(JNIEnv *env, const mj_conv_error *err, const char *what) {
  if (err->java_exception || (*env)->ExceptionCheck(env)) {
    return; /* user code threw while converting: that exception goes on */
  }
  mj_throw(env, err->code, "cannot convert %s: %s", what, err->msg);
}

manta_value *mj_pending_exception_to_error(JNIEnv *env, const char *origin) {
  jthrowable t = (*env)->ExceptionOccurred(env);
  (*env)->ExceptionClear(env);
  if (t && (*env)->IsInstanceOf(env, t, mj.MantaException)) {
    /* The glue's own failures (a value too deep to convert...) keep their
     * kind. */
    mj_conv_error err;
    manta_value *e = mj_to_manta(env, t, &err);
    (*env)->ExceptionClear(env);
    (*env)->DeleteLocalRef(env, t);
    return e ? e : manta_error(err.code, "%s", err.msg);
  }
  char text[1024] = "unknown Java exception";
  if (t) {
    jstring s = (*env)->CallObjectMethod(env, t, mj.Object_toString);
    if ((*env)->ExceptionCheck(env)) {
      (*env)->ExceptionClear(env);
      class_name(env, t, text, sizeof text);
    } else if (s) {
      char buf[1024];
      size_t len;
      char *u = utf8_of(env, s, buf, sizeof buf, &len);
      if (u) {
        snprintf(text, sizeof text, "%s", u);
        if (u != buf) {
          free(u);
        }
      }
    }
    (*env)->DeleteLocalRef(env, s);
    (*env)->DeleteLocalRef(env, t);
  }
  manta_value *e = manta_error(MANTA_ERR_TASK_FAILED, "%s", text);
  if (e && origin) {
    manta_error_set_origin(e, origin);
  }
  return e;
}
