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

/* The deployment's resources from parallel arrays; false with a Java
 * exception pending when one cannot be read. */
static bool set_resources(JNIEnv *env, manta_deployment *d, jobjectArray names,
                          jdoubleArray qty, manta_err *err) {
  jsize n = names ? (*env)->GetArrayLength(env, names) : 0;
  for (jsize i = 0; i < n && !*err; i++) {
    jstring jname = (*env)->GetObjectArrayElement(env, names, i);
    text name = {0};
    bool got = text_of(env, jname, &name, "resource name");
    (*env)->DeleteLocalRef(env, jname);
    if (!got) {
      return false;
    }
    jdouble q = 0;
    (*env)->GetDoubleArrayRegion(env, qty, i, 1, &q);
    *err = manta_deployment_set_resource(d, name.s ? name.s : "", q);
    text_free(&name);
  }
  return true;
}

NATIVE(void, serveDeploy)
(JNIEnv *env, jclass cls, jstring jroute, jstring jfunction, jstring jclass,
 jstring jmethod, jint replicas, jint max_ongoing, jlong timeout_ms,
 jint min_replicas, jint max_replicas, jint target, jboolean idempotent,
 jstring jhealth, jlong health_period_ms, jlong health_timeout_ms,
 jobjectArray res_names, jdoubleArray res_qty, jobjectArray jargs) {
  (void)cls;
  text route = {0}, fn = {0}, klass = {0}, method = {0}, health = {0};
  manta_deployment *d = NULL;
  if (text_of(env, jroute, &route, "route") &&
      text_of(env, jfunction, &fn, "function") &&
      text_of(env, jclass, &klass, "class") &&
      text_of(env, jmethod, &method, "method") &&
      text_of(env, jhealth, &health, "health check method")) {
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
    if (!err && health.s) {
      err = manta_deployment_set_health_check(d, health.s, health_period_ms,
                                              health_timeout_ms);
    }
    if (!err && !set_resources(env, d, res_names, res_qty, &err)) {
      goto done; /* a Java exception is pending */
    }
    if (!err && jargs) {
      manta_value *buf[8], **args = NULL;
      size_t n = 0;
      mj_conv_error conv = {0};
      if (!mj_args_to_manta(env, jargs, buf, 8, &args, &n, &conv)) {
        if (!conv.java_exception) {
          mj_throw(env, conv.code, "Serve deploy: args: %s", conv.msg);
        }
        goto done;
      }
      err = manta_deployment_set_args(d, (const manta_value *const *)args, n);
      mj_args_free(args, n, buf);
    }
    if (!err) {
      err = manta_serve_deploy(d);
    }
    ok(env, err, "Serve deploy (the log says why)");
  done:
    manta_deployment_free(d);
  }
  text_free(&route), text_free(&fn), text_free(&klass), text_free(&method);
  text_free(&health);
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
