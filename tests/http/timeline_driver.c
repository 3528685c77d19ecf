/*
 * Work for the timeline test: joins the cluster at MANTA_ADDRESS and runs
 * meet(DIR, 2) twice at once (each returns only once both run: two calls
 * that overlap in time on a 2-slot node), ADDS add(i, 1) and 3 calls of
 * Counter.add on one actor, checking every result.
 *   timeline_driver DIR ADDS
 */
#include <manta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *what, manta_err err) {
  fprintf(stderr, "timeline_driver: %s: %s\n", what, manta_strerror(err));
  return 1;
}

/* Submits fn(args) and waits for a result that is no error. */
static int call(const char *fn, manta_value **args, size_t n, manta_ref *r) {
  manta_err err =
      manta_submit(fn, (const manta_value *const *)args, n, NULL, r);
  for (size_t i = 0; i < n; i++) {
    manta_value_free(args[i]);
  }
  return err ? bad(fn, err) : 0;
}

static int wait_ok(const char *fn, manta_ref r) {
  manta_value *v = NULL;
  manta_err err = manta_get(r, 60000, &v);
  manta_value_free(v);
  manta_ref_release(r);
  return err ? bad(fn, err) : 0;
}

static int run(const char *dir, long adds) {
  manta_ref meets[2];
  for (int i = 0; i < 2; i++) {
    manta_value *args[2] = {manta_string(dir, strlen(dir)), manta_int(2)};
    if (call("meet", args, 2, &meets[i])) {
      return 1;
    }
  }
  for (int i = 0; i < 2; i++) {
    if (wait_ok("meet", meets[i])) {
      return 1;
    }
  }
  for (long i = 0; i < adds; i++) {
    manta_value *args[2] = {manta_int(i), manta_int(1)};
    manta_ref r;
    if (call("add", args, 2, &r) || wait_ok("add", r)) {
      return 1;
    }
  }
  manta_actor a;
  manta_err err = manta_actor_create("Counter", NULL, 0, NULL, &a);
  if (err) {
    return bad("create Counter", err);
  }
  for (int i = 0; i < 3; i++) {
    manta_value *one = manta_int(1);
    manta_ref r;
    err = manta_actor_call(a, "add", (const manta_value *const *)&one, 1, &r);
    manta_value_free(one);
    if (err || wait_ok("Counter.add", r)) {
      return err ? bad("Counter.add", err) : 1;
    }
  }
  manta_actor_release(a);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: timeline_driver DIR ADDS\n");
    return 2;
  }
  manta_err err = manta_init(NULL);
  if (err) {
    return bad("init", err);
  }
  int rc = run(argv[1], atol(argv[2]));
  manta_shutdown();
  if (rc == 0) {
    printf("timeline_driver: done\n");
  }
  return rc;
}
