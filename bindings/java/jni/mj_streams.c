/* The stream natives of manta.Native (ObjectRefStream, Manta.emit): calls
 * submitted as streams and the items they emit (docs/api.md, "Streams"). */
#include "manta_Native.h"
#include "mj.h"

#include <stdlib.h>

#define NATIVE(ret, name) JNIEXPORT ret JNICALL Java_manta_Native_##name

enum { ARGS_ON_STACK = 8, NAME_ON_STACK = 256 };

/* Throws for a failed call; true if err was MANTA_OK. */
static bool stream_check(JNIEnv *env, manta_err err, const char *what) {
  if (err != MANTA_OK) {
    mj_throw(env, err, "%s: %s", what, manta_strerror(err));
  }
  return err == MANTA_OK;
}

NATIVE(jlong, submitStream)
(JNIEnv *env, jclass cls, jbyteArray jname, jobjectArray jargs, jobject jopts,
 jint window) {
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
  manta_stream s = {0};
  if (mj_call_options(env, jopts, &opts) &&
      (window <= 0 || opts ||
       stream_check(env, manta_call_options_new(&opts),
                    "manta_call_options_new")) &&
      (window <= 0 ||
       stream_check(env,
                    manta_call_options_set_stream_window(opts, (size_t)window),
                    "streamWindow")) &&
      (name = mj_c_name(env, jname, nbuf, sizeof nbuf))) {
    stream_check(env,
                 manta_submit_stream(name, (const manta_value *const *)args, n,
                                     opts, &s),
                 "submit");
  }
  if (name && name != nbuf) {
    free(name);
  }
  manta_call_options_free(opts);
  mj_args_free(args, n, buf);
  return (jlong)s.id;
}

NATIVE(jlong, actorCallStream)
(JNIEnv *env, jclass cls, jlong actor, jstring jmethod, jobjectArray jargs,
 jint window) {
  (void)cls;
  char mbuf[NAME_ON_STACK];
  char *method = mj_cstring(env, jmethod, mbuf, sizeof mbuf, "method name");
  if (!method) {
    return 0;
  }
  manta_value *buf[ARGS_ON_STACK], **args;
  size_t n;
  mj_conv_error cerr;
  manta_call_options *opts = NULL;
  manta_stream s = {0};
  if (!mj_args_to_manta(env, jargs, buf, ARGS_ON_STACK, &args, &n, &cerr)) {
    mj_throw_conv(env, &cerr, "a method argument");
  } else {
    if ((window <= 0 ||
         (stream_check(env, manta_call_options_new(&opts),
                       "manta_call_options_new") &&
          stream_check(
              env, manta_call_options_set_stream_window(opts, (size_t)window),
              "streamWindow")))) {
      stream_check(env,
                   manta_actor_call_stream(
                       (manta_actor){(uint64_t)actor}, method,
                       (const manta_value *const *)args, n, opts, &s),
                   "actor call");
    }
    mj_args_free(args, n, buf);
  }
  manta_call_options_free(opts);
  if (method != mbuf) {
    free(method);
  }
  return (jlong)s.id;
}

/* The next item's ref id; 0: none came in time; -1: the stream ended. A
 * failed call throws its error (after its items were read). */
NATIVE(jlong, streamNext)
(JNIEnv *env, jclass cls, jlong id, jlong timeout_ms) {
  (void)cls;
  manta_stream s = {(uint64_t)id};
  manta_ref r = {0};
  manta_err err =
      manta_stream_next(s, &r, timeout_ms < 0 ? MANTA_FOREVER : timeout_ms);
  switch (err) {
  case MANTA_OK:
    return (jlong)r.id;
  case MANTA_ERR_TIMEOUT:
    return 0;
  case MANTA_ERR_STREAM_END:
    return -1;
  case MANTA_ERR_TASK_FAILED: {
    manta_value *why = NULL;
    if (manta_stream_error(s, &why) == MANTA_OK) {
      mj_throw_error_value(env, why);
      manta_value_free(why);
      return -1;
    }
    break;
  }
  default:
    break;
  }
  mj_throw(env, err, "stream: %s", manta_strerror(err));
  return -1;
}

NATIVE(void, streamRelease)(JNIEnv *env, jclass cls, jlong id) {
  (void)env, (void)cls;
  manta_stream_release((manta_stream){(uint64_t)id});
}

NATIVE(void, emit)(JNIEnv *env, jclass cls, jobject value) {
  (void)cls;
  mj_conv_error cerr;
  manta_value *v = mj_to_manta(env, value, &cerr);
  if (!v) {
    mj_throw_conv(env, &cerr, "an emitted item");
    return;
  }
  manta_err err = manta_emit(v);
  if (err == MANTA_ERR_CANCELLED) {
    mj_throw(env, err, "emit: the reader let go of the stream");
  } else if (err == MANTA_ERR_INVALID) {
    mj_throw(env, err, "emit: only a call submitted as a stream may emit");
  } else {
    stream_check(env, err, "emit");
  }
}
