/*
 * Java in a node started by the manta command: `manta start --classpath CP
 * [--java-module CLASS]... [--java-option OPT]...` loads libmanta_jni as a
 * module, which starts a JVM in the node through the JNI invocation API
 * (bindings/java/jni/mj_embed.c) and loads the Java modules before the node
 * joins, so its first registration already offers the Java functions.
 */
#ifndef MANTA_CLI_JAVA_H
#define MANTA_CLI_JAVA_H

#include <stddef.h>

#define CLI_JAVA_MAX 32

typedef struct cli_java_args {
  const char *classpath; /* NULL: MANTA_JAVA_CLASSPATH decides */
  const char *modules[CLI_JAVA_MAX];
  int nmodules;
  const char *options[CLI_JAVA_MAX];
  int noptions;
} cli_java_args;

/* Whether any Java option was given. */
int cli_java_wanted(const cli_java_args *j);

/*
 * Finds libmanta_jni and manta.jar, checks the class path, and sets
 * MANTA_JAVA_CLASSPATH (the class path and manta.jar), MANTA_JAVA_MODULES
 * and MANTA_JAVA_OPTIONS for this process. Returns the library to load as
 * a module (malloc'd), or NULL with `why` saying what is wrong.
 */
char *cli_java_prepare(const cli_java_args *j, char *why, size_t size);

#endif
