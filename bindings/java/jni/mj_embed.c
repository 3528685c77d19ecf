/*
 * A C node hosting Java code: libmanta_jni is also a manta module. Loaded
 * with manta_module_load, its entry point starts a JVM in the process (or
 * joins the one already there) and loads the Java modules named in
 * MANTA_JAVA_MODULES. The environment says how (docs/java.md):
 *
 *   MANTA_JAVA_CLASSPATH  the application's jars and class folders; manta.jar
 *                         is found beside this library (or in
 *                         ../share/java/) and appended if not there yet
 *   MANTA_JAVA_OPTIONS    more JVM options, separated by spaces
 *   MANTA_JAVA_MODULES    classes implementing manta.Module, separated by
 *                         commas or spaces
 *
 * The JVM starts with -Xrs, so it leaves the process's SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT handling alone. It is never destroyed: a JVM cannot be
 * created twice in one process, and a later manta_init may need it again.
 */
#include "mj.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void log_error(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "manta_jni: ");
  fprintf(stderr, fmt, a, b);
  fprintf(stderr, "\n");
}

/* Where this library was loaded from (the JVM must load the same file). */
static const char *own_path(void) {
  Dl_info info;
  void *self = (void *)(intptr_t)mj_env;
  if (dladdr(self, &info) == 0 || !info.dli_fname) {
    return NULL;
  }
  return info.dli_fname;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* manta.jar beside this library (the build tree) or in ../share/java (an
 * installed prefix); NULL if neither exists. */
static char *find_manta_jar(const char *lib) {
  const char *slash = strrchr(lib, '/');
  size_t dir = slash ? (size_t)(slash - lib) : 1;
  const char *base = slash ? lib : ".";
  const char *tails[] = {"/manta.jar", "/../share/java/manta.jar"};
  for (size_t i = 0; i < 2; i++) {
    size_t size = dir + strlen(tails[i]) + 1;
    char *p = malloc(size);
    if (!p) {
      return NULL;
    }
    snprintf(p, size, "%.*s%s", (int)dir, base, tails[i]);
    if (is_file(p)) {
      return p;
    }
    free(p);
  }
  return NULL;
}

/* Whether the class path names that file already (`manta start
 * --classpath` puts the manta.jar it found there). */
static bool on_classpath(const char *cp, const char *file) {
  char *want = realpath(file, NULL);
  char *copy = cp ? strdup(cp) : NULL;
  bool found = false;
  char *save = NULL;
  for (char *e = copy && want ? strtok_r(copy, ":", &save) : NULL; e && !found;
       e = strtok_r(NULL, ":", &save)) {
    char *real = realpath(e, NULL);
    found = real && strcmp(real, want) == 0;
    free(real);
  }
  free(copy);
  free(want);
  return found;
}

static char *concat3(const char *a, const char *b, const char *c) {
  size_t size = strlen(a) + strlen(b) + strlen(c) + 1;
  char *p = malloc(size);
  if (p) {
    snprintf(p, size, "%s%s%s", a, b, c);
  }
  return p;
}

static manta_err create_jvm(const char *lib, JavaVM **vm, JNIEnv **env) {
  const char *app = getenv("MANTA_JAVA_CLASSPATH");
  char *jar = find_manta_jar(lib);
  if (!jar) {
    log_error("manta.jar not found beside %s%s; it must be on "
              "MANTA_JAVA_CLASSPATH",
              lib, "");
  } else if (on_classpath(app, jar)) {
    free(jar);
    jar = NULL;
  }
  char *cp = concat3(app && *app ? app : "", app && *app && jar ? ":" : "",
                     jar ? jar : "");
  char *cp_opt = cp ? concat3("-Djava.class.path=", cp, "") : NULL;
  char *lib_opt = concat3("-Dmanta.jni.library=", lib, "");
  const char *extra = getenv("MANTA_JAVA_OPTIONS");
  char *extra_copy = extra ? strdup(extra) : NULL;
  size_t max = 3 + (extra ? strlen(extra) / 2 + 1 : 0);
  JavaVMOption *opts = calloc(max, sizeof *opts);
  manta_err err = MANTA_ERR_NOMEM;
  if (cp_opt && lib_opt && opts && (!extra || extra_copy)) {
    size_t n = 0;
    opts[n++].optionString = cp_opt;
    opts[n++].optionString = lib_opt;
    opts[n++].optionString = "-Xrs";
    char *save = NULL;
    for (char *tok = extra_copy ? strtok_r(extra_copy, " \t\n", &save) : NULL;
         tok && n < max; tok = strtok_r(NULL, " \t\n", &save)) {
      opts[n++].optionString = tok;
    }
    JavaVMInitArgs args = {JNI_VERSION_1_8, (jint)n, opts, JNI_FALSE};
    jint rc = JNI_CreateJavaVM(vm, (void **)env, &args);
    err = MANTA_OK;
    if (rc != JNI_OK) {
      char code[32];
      snprintf(code, sizeof code, "%d", (int)rc);
      log_error("cannot start a JVM (JNI_CreateJavaVM gave %s; class path "
                "%s)",
                code, cp);
      err = MANTA_ERR_INTERNAL;
    }
  }
  free(opts);
  free(extra_copy);
  free(lib_opt);
  free(cp_opt);
  free(cp);
  free(jar);
  return err;
}

/* Tells a JVM created elsewhere which file manta.Native must load. */
static bool set_library_property(JNIEnv *env, const char *lib) {
  jclass system = (*env)->FindClass(env, "java/lang/System");
  jmethodID set =
      system
          ? (*env)->GetStaticMethodID(env, system, "setProperty",
                                      "(Ljava/lang/String;Ljava/lang/String;)"
                                      "Ljava/lang/String;")
          : NULL;
  jstring k = set ? (*env)->NewStringUTF(env, "manta.jni.library") : NULL;
  jstring v = k ? (*env)->NewStringUTF(env, lib) : NULL;
  if (v) {
    jobject old = (*env)->CallStaticObjectMethod(env, system, set, k, v);
    (*env)->DeleteLocalRef(env, old);
  }
  (*env)->DeleteLocalRef(env, k);
  (*env)->DeleteLocalRef(env, v);
  (*env)->DeleteLocalRef(env, system);
  return !(*env)->ExceptionCheck(env);
}

static void describe_exception(JNIEnv *env, const char *what) {
  if ((*env)->ExceptionCheck(env)) {
    log_error("%s failed with this Java exception:%s", what, "");
    (*env)->ExceptionDescribe(env); /* prints and clears */
  }
}

/* Starts or joins the JVM and makes it load manta.Native from this very
 * file, whose JNI_OnLoad fills the cache. */
static manta_err start_java(void) {
  const char *lib = own_path();
  if (!lib) {
    log_error("cannot tell where libmanta_jni was loaded from%s%s", "", "");
    return MANTA_ERR_INTERNAL;
  }
  JavaVM *vm = NULL;
  JNIEnv *env = NULL;
  jsize n = 0;
  if (JNI_GetCreatedJavaVMs(&vm, 1, &n) == JNI_OK && n == 1) {
    mj.vm = vm;
    if (!(env = mj_env()) || !set_library_property(env, lib)) {
      log_error("cannot use the JVM already in this process%s%s", "", "");
      return MANTA_ERR_INTERNAL;
    }
  } else {
    manta_err err = create_jvm(lib, &vm, &env);
    if (err != MANTA_OK) {
      return err;
    }
    mj.vm = vm;
  }
  jclass native = (*env)->FindClass(env, "manta/Native");
  jmethodID load =
      native ? (*env)->GetStaticMethodID(env, native, "ensureLoaded", "()V")
             : NULL;
  if (load) {
    (*env)->CallStaticVoidMethod(env, native, load);
  }
  (*env)->DeleteLocalRef(env, native);
  if ((*env)->ExceptionCheck(env) || !mj.Registry) {
    describe_exception(env, "loading manta.Native (is manta.jar on the class "
                            "path?)");
    return MANTA_ERR_NOT_FOUND;
  }
  return MANTA_OK;
}

static manta_err load_java_modules(JNIEnv *env, const char *names) {
  jclass loader = (*env)->FindClass(env, "manta/ModuleLoader");
  jmethodID load =
      loader
          ? (*env)->GetStaticMethodID(env, loader, "loadForNative",
                                      "(Ljava/lang/String;)Ljava/lang/String;")
          : NULL;
  jstring jnames = load ? (*env)->NewStringUTF(env, names) : NULL;
  jstring why =
      jnames ? (*env)->CallStaticObjectMethod(env, loader, load, jnames) : NULL;
  manta_err err = MANTA_OK;
  if ((*env)->ExceptionCheck(env) || !jnames) {
    describe_exception(env, "loading Java modules");
    err = MANTA_ERR_INTERNAL;
  } else if (why) {
    const char *s = (*env)->GetStringUTFChars(env, why, NULL);
    log_error("%s%s", s ? s : "a Java module failed", "");
    if (s) {
      (*env)->ReleaseStringUTFChars(env, why, s);
    }
    err = MANTA_ERR_NOT_FOUND;
  }
  (*env)->DeleteLocalRef(env, why);
  (*env)->DeleteLocalRef(env, jnames);
  (*env)->DeleteLocalRef(env, loader);
  return err;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  if (!mj.Registry) {
    manta_err err = start_java();
    if (err != MANTA_OK) {
      return err;
    }
  }
  JNIEnv *env = mj_env();
  if (!env) {
    return MANTA_ERR_INTERNAL;
  }
  const char *names = getenv("MANTA_JAVA_MODULES");
  if (!names || !*names) {
    return MANTA_OK; /* a JVM ready for Java code, nothing registered */
  }
  if ((*env)->PushLocalFrame(env, 16) != JNI_OK) {
    (*env)->ExceptionClear(env);
    return MANTA_ERR_NOMEM;
  }
  manta_err err = load_java_modules(env, names);
  (*env)->PopLocalFrame(env, NULL);
  return err;
}
