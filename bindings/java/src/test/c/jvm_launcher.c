/*
 * Runs a Java main class in a JVM that this process hosts. Sanitizer builds
 * use it to run the Java tests with libmanta and libmanta_jni instrumented:
 * the `java` launcher is not, and an instrumented library cannot load into
 * it (docs/testing.md).
 *
 *   jvm_launcher [JVM option]... -- MAIN_CLASS [argument]...
 *
 * The exit status is the program's (System.exit), or 1 if main threw.
 */
#include <jni.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  int sep = 1;
  while (sep < argc && strcmp(argv[sep], "--") != 0) {
    sep++;
  }
  if (sep + 1 >= argc) {
    fprintf(stderr, "usage: %s [JVM option]... -- MAIN_CLASS [argument]...\n",
            argv[0]);
    return 2;
  }
  JavaVMOption *opts = calloc((size_t)sep, sizeof *opts);
  char *main_class = strdup(argv[sep + 1]);
  if (!opts || !main_class) {
    return 1;
  }
  for (int i = 1; i < sep; i++) {
    opts[i - 1].optionString = argv[i];
  }
  for (char *p = main_class; *p; p++) {
    *p = *p == '.' ? '/' : *p;
  }
  JavaVMInitArgs init = {JNI_VERSION_1_8, sep - 1, opts, JNI_FALSE};
  JavaVM *vm;
  JNIEnv *env;
  if (JNI_CreateJavaVM(&vm, (void **)&env, &init) != JNI_OK) {
    fprintf(stderr, "jvm_launcher: cannot start a JVM\n");
    return 1;
  }
  int status = 1;
  jclass cls = (*env)->FindClass(env, main_class);
  jmethodID main_id = cls ? (*env)->GetStaticMethodID(env, cls, "main",
                                                      "([Ljava/lang/String;)V")
                          : NULL;
  jclass string = (*env)->FindClass(env, "java/lang/String");
  int nargs = argc - sep - 2;
  jobjectArray args = main_id && string
                          ? (*env)->NewObjectArray(env, nargs, string, NULL)
                          : NULL;
  for (int i = 0; args && i < nargs; i++) {
    jstring s = (*env)->NewStringUTF(env, argv[sep + 2 + i]);
    (*env)->SetObjectArrayElement(env, args, i, s);
    (*env)->DeleteLocalRef(env, s);
  }
  if (args) {
    (*env)->CallStaticVoidMethod(env, cls, main_id, args);
    status = (*env)->ExceptionCheck(env) ? 1 : 0;
  }
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionDescribe(env);
  }
  /* Waits for the program's other non-daemon threads, as `java` does. */
  (*vm)->DestroyJavaVM(vm);
  free(main_class);
  free(opts);
  return status;
}
