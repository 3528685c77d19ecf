/*
 * Where the manta command finds the Java binding, and the environment it
 * sets for the JVM its node hosts (cli_java.h).
 *
 * libmanta_jni: $MANTA_JNI_LIBRARY, else relative to this executable as
 * installed (bin/ -> lib/) or as built (runtime/ -> bindings/java/), else
 * the library directory of the configured install prefix. manta.jar:
 * $MANTA_JAR, else beside the library (the build tree) or in the data
 * directory relative to it (an install, ../share/java). The paths come from
 * CMake (bindings/java/CMakeLists.txt); a build without the binding defines
 * none of them.
 */
#include "cli_java.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_java_wanted(const cli_java_args *j) {
  return j->classpath || j->nmodules > 0 || j->noptions > 0;
}

#ifndef MANTA_CLI_JAVA

char *cli_java_prepare(const cli_java_args *j, char *why, size_t size) {
  (void)j;
  snprintf(why, size,
           "this manta was built without the Java binding, so --classpath, "
           "--java-module and --java-option are not available (it needs a "
           "JDK 17 at configure time and -DMANTA_BUILD_JAVA=ON)");
  return NULL;
}

#else

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir + "/" + rel, resolved; NULL if it names no file. */
static char *existing(const char *dir, const char *rel) {
  char path[PATH_MAX * 2];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  return is_file(path) ? realpath(path, NULL) : NULL;
}

static void append(char *buf, size_t size, const char *s) {
  size_t len = strlen(buf);
  if (len < size) {
    snprintf(buf + len, size - len, "%s", s);
  }
}

static char *find_library(char *why, size_t size) {
  const char *env = getenv("MANTA_JNI_LIBRARY");
  if (env && *env) {
    if (is_file(env)) {
      return realpath(env, NULL);
    }
    snprintf(why, size, "MANTA_JNI_LIBRARY=%s: no such file", env);
    return NULL;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  char *found = NULL;
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    *slash = '\0';
    found = existing(exe, MANTA_CLI_JNI_FROM_BIN_INSTALLED "/" MANTA_CLI_JNI);
    if (!found) {
      found = existing(exe, MANTA_CLI_JNI_FROM_BIN_BUILT "/" MANTA_CLI_JNI);
    }
  }
  if (!found) {
    found = existing(MANTA_CLI_JNI_INSTALL_DIR, MANTA_CLI_JNI);
  }
  if (!found) {
    snprintf(why, size,
             "cannot find the Java binding's library %s: looked in %s/%s, "
             "%s/%s and %s; set MANTA_JNI_LIBRARY to its path",
             MANTA_CLI_JNI, n > 0 ? exe : "(this program's directory)",
             MANTA_CLI_JNI_FROM_BIN_INSTALLED,
             n > 0 ? exe : "(this program's directory)",
             MANTA_CLI_JNI_FROM_BIN_BUILT, MANTA_CLI_JNI_INSTALL_DIR);
  }
  return found;
}

static char *find_jar(const char *lib, char *why, size_t size) {
  const char *env = getenv("MANTA_JAR");
  if (env && *env) {
    if (is_file(env)) {
      return realpath(env, NULL);
    }
    snprintf(why, size, "MANTA_JAR=%s: no such file", env);
    return NULL;
  }
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", lib);
  char *slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
  }
  char *found = existing(dir, "manta.jar");
  if (!found) {
    found = existing(dir, MANTA_CLI_JAR_FROM_LIB "/manta.jar");
  }
  if (!found) {
    found = existing(dir, "../share/java/manta.jar");
  }
  if (!found) {
    snprintf(why, size,
             "cannot find manta.jar beside %s, in %s/%s or in "
             "%s/../share/java; set MANTA_JAR to its path",
             lib, dir, MANTA_CLI_JAR_FROM_LIB, dir);
  }
  return found;
}

/* Every entry of the class path must exist: the JVM would skip a missing
 * one silently and only a module class not found would tell. "dir/\*"
 * stands for the jars in dir. */
static int check_classpath(const char *cp, char *why, size_t size) {
  char *copy = strdup(cp), *save = NULL;
  int ok = copy != NULL;
  for (char *e = copy ? strtok_r(copy, ":", &save) : NULL; e && ok;
       e = strtok_r(NULL, ":", &save)) {
    size_t len = strlen(e);
    if (len >= 2 && strcmp(e + len - 2, "/*") == 0) {
      e[len - 2] = '\0';
    }
    struct stat st;
    if (stat(e, &st) != 0) {
      snprintf(why, size, "--classpath: %s does not exist", e);
      ok = 0;
    }
  }
  free(copy);
  return ok;
}

char *cli_java_prepare(const cli_java_args *j, char *why, size_t size) {
  for (int i = 0; i < j->noptions; i++) {
    if (strpbrk(j->options[i], " \t\n")) {
      snprintf(why, size,
               "--java-option '%s': a JVM option cannot contain spaces "
               "(give each option as its own --java-option)",
               j->options[i]);
      return NULL;
    }
  }
  const char *cp = j->classpath ? j->classpath : getenv("MANTA_JAVA_CLASSPATH");
  if (cp && *cp && !check_classpath(cp, why, size)) {
    return NULL;
  }
  char *lib = find_library(why, size);
  char *jar = lib ? find_jar(lib, why, size) : NULL;
  if (!jar) {
    free(lib);
    return NULL;
  }
  size_t cp_size = (cp ? strlen(cp) : 0) + strlen(jar) + 2;
  char *full = malloc(cp_size);
  char *list = calloc(1, 64 * 1024);
  if (!full || !list) {
    snprintf(why, size, "out of memory");
    free(full), free(list), free(jar), free(lib);
    return NULL;
  }
  snprintf(full, cp_size, "%s%s%s", cp && *cp ? cp : "", cp && *cp ? ":" : "",
           jar);
  setenv("MANTA_JAVA_CLASSPATH", full, 1);
  if (j->nmodules > 0) {
    for (int i = 0; i < j->nmodules; i++) {
      append(list, 64 * 1024, i ? "," : "");
      append(list, 64 * 1024, j->modules[i]);
    }
    setenv("MANTA_JAVA_MODULES", list, 1);
  }
  if (j->noptions > 0) {
    list[0] = '\0';
    for (int i = 0; i < j->noptions; i++) {
      append(list, 64 * 1024, i ? " " : "");
      append(list, 64 * 1024, j->options[i]);
    }
    setenv("MANTA_JAVA_OPTIONS", list, 1);
  }
  free(list);
  free(full);
  free(jar);
  return lib;
}

#endif
