/* The JNI glue of manta.Serve (docs/serve.md, docs/java.md): each native
 * is one or two manta_serve_* calls. */
#include "manta_Native.h"
#include "mj.h"

#include <manta.h>
#include <stdlib.h>

#define NATIVE(ret, name) JNIEXPORT ret JNICALL Java_manta_Native_##name
#define TEXT_ON_STACK 256

/* A C copy of an optional string (NULL for null); false with an exception
 * pending when it cannot be one. */
typedef struct text {
  char buf[TEXT_ON_STACK];
  char *s;
} text;

static bool text_of(JNIEnv *env, jstring js, text *t, const char *what) {
  t->s = NULL;
  if (!js) {
    return true;
  }
  t->s = mj_cstring(env, js, t->buf, sizeof t->buf, what);
  return t->s != NULL;
}

static void text_free(text *t) {
  if (t->s && t->s != t->buf) {
    free(t->s);
  }
}

static bool ok(JNIEnv *env, manta_err err, const char *what) {
  if (err != MANTA_OK) {
    mj_throw(env, err, "%s: %s", what, manta_strerror(err));
    return false;
  }
  return true;
}

NATIVE(jint, serveStart)
(JNIEnv *env, jclass cls, jstring jhost, jint port, jstring jtoken,
 jlong max_body) {
  (void)cls;
  text host, token;
  manta_serve_options *o = NULL;
  int served = -1;
  if (text_of(env, jhost, &host, "host") &&
      text_of(env, jtoken, &token, "token")) {
    manta_err err = manta_serve_options_new(&o);
    if (!err && host.s) {
      err = manta_serve_options_set_host(o, host.s);
    }
    if (!err) {
      err = manta_serve_options_set_port(o, port);
    }
    if (!err && token.s) {
      err = manta_serve_options_set_token(o, token.s);
    }
    if (!err && max_body > 0) {
      err = manta_serve_options_set_max_body(o, (size_t)max_body);
    }
    if (!err) {
      err = manta_serve_start(o);
    }
    if (ok(env, err, "Serve.start (the log says why)")) {
      manta_serve_port(&served);
    }
    manta_serve_options_free(o);
    text_free(&token);
  }
  text_free(&host);
  return served;
}

NATIVE(void, serveStop)(JNIEnv *env, jclass cls) {
  (void)env, (void)cls;
  (void)manta_serve_stop();
}

NATIVE(jint, servePort)(JNIEnv *env, jclass cls) {
  (void)env, (void)cls;
  int port = -1;
  return manta_serve_port(&port) == MANTA_OK ? port : -1;
}

NATIVE(void, serveDeploy)
(JNIEnv *env, jclass cls, jstring jroute, jstring jfunction, jstring jclass,
 jstring jmethod, jint replicas, jint max_ongoing, jlong timeout_ms,
 jint min_replicas, jint max_replicas, jint target, jboolean idempotent) {
  (void)cls;
  text route = {0}, fn = {0}, klass = {0}, method = {0};
  manta_deployment *d = NULL;
  if (text_of(env, jroute, &route, "route") &&
      text_of(env, jfunction, &fn, "function") &&
      text_of(env, jclass, &klass, "class") &&
      text_of(env, jmethod, &method, "method")) {
    manta_err err = manta_deployment_new(route.s ? route.s : "", &d);
    if (!err) {
      err = fn.s ? manta_deployment_set_function(d, fn.s)
                 : manta_deployment_set_class(d, klass.s ? klass.s : "",
                                              method.s);
    }
    if (!err && replicas > 0) {
      err = manta_deployment_set_replicas(d, (unsigned)replicas);
    }
    if (!err && max_ongoing > 0) {
      err = manta_deployment_set_max_ongoing_requests(d, (unsigned)max_ongoing);
    }
    if (!err && timeout_ms > 0) {
      err = manta_deployment_set_timeout(d, timeout_ms);
    }
    if (!err && max_replicas > 0) {
      err = manta_deployment_set_autoscaling(
          d, (unsigned)min_replicas, (unsigned)max_replicas, (unsigned)target);
    }
    if (!err && idempotent) {
      err = manta_deployment_set_idempotent(d, 1);
    }
    if (!err) {
      err = manta_serve_deploy(d);
    }
    ok(env, err, "Serve deploy (the log says why)");
    manta_deployment_free(d);
  }
  text_free(&route), text_free(&fn), text_free(&klass), text_free(&method);
}

NATIVE(void, serveDelete)(JNIEnv *env, jclass cls, jstring jroute) {
  (void)cls;
  text route;
  if (text_of(env, jroute, &route, "route")) {
    manta_err err = manta_serve_delete(route.s ? route.s : "");
    if (err == MANTA_ERR_NOT_FOUND) {
      mj_throw(env, err, "no route %s", route.s);
    } else {
      ok(env, err, "Serve.delete");
    }
    text_free(&route);
  }
}

NATIVE(jobject, serveStatus)(JNIEnv *env, jclass cls) {
  (void)cls;
  manta_value *v = NULL;
  if (!ok(env, manta_serve_status(&v), "Serve.status")) {
    return NULL;
  }
  jobject o = mj_to_java(env, v);
  manta_value_free(v);
  return o;
}
