/*
 * Work for the metrics test: joins the cluster at MANTA_ADDRESS (this
 * driver registers nothing, so everything runs on the nodes that offer it)
 * and runs TASKS add(i, 1), FAILS fail() and CALLS Counter.add(1) on one
 * actor, checking every result; with BYTES, make_bytes(BYTES) once, its
 * result fetched from the node that made it (larger than what travels
 * inline) and its length checked.
 *   metrics_driver TASKS FAILS CALLS [BYTES]
 */
#include <manta.h>

#include <stdio.h>
#include <stdlib.h>

static int bad(const char *what, manta_err err) {
  fprintf(stderr, "metrics_driver: %s: %s\n", what, manta_strerror(err));
  return 1;
}

static int run(long tasks, long fails, long calls) {
  for (long i = 0; i < tasks; i++) {
    manta_value *args[2] = {manta_int(i), manta_int(1)};
    manta_ref r;
    manta_value *v = NULL;
    manta_err err =
        manta_submit("add", (const manta_value *const *)args, 2, NULL, &r);
    manta_value_free(args[0]);
    manta_value_free(args[1]);
    if (err || (err = manta_get(r, 30000, &v))) {
      return bad("add", err);
    }
    int64_t got = -1;
    manta_get_int(v, &got);
    manta_value_free(v);
    manta_ref_release(r);
    if (got != i + 1) {
      fprintf(stderr, "metrics_driver: add(%ld, 1) gave %lld\n", i,
              (long long)got);
      return 1;
    }
  }
  for (long i = 0; i < fails; i++) {
    manta_ref r;
    manta_value *v = NULL;
    manta_err err = manta_submit("fail", NULL, 0, NULL, &r);
    if (err || manta_get(r, 30000, &v) != MANTA_ERR_TASK_FAILED) {
      return bad("fail did not fail", err);
    }
    manta_value_free(v);
    manta_ref_release(r);
  }
  manta_actor a;
  manta_err err = manta_actor_create("Counter", NULL, 0, NULL, &a);
  if (err) {
    return bad("create Counter", err);
  }
  for (long i = 0; i < calls; i++) {
    manta_value *one = manta_int(1);
    manta_ref r;
    manta_value *v = NULL;
    err = manta_actor_call(a, "add", (const manta_value *const *)&one, 1, &r);
    manta_value_free(one);
    if (err || (err = manta_get(r, 30000, &v))) {
      return bad("Counter.add", err);
    }
    manta_value_free(v);
    manta_ref_release(r);
  }
  manta_actor_release(a);
  return 0;
}

static int fetch_bytes(long bytes) {
  manta_value *arg = manta_int(bytes);
  manta_ref r;
  manta_value *v = NULL;
  manta_err err =
      manta_submit("make_bytes", (const manta_value *const *)&arg, 1, NULL, &r);
  manta_value_free(arg);
  if (err || (err = manta_get(r, 30000, &v))) {
    return bad("make_bytes", err);
  }
  const void *data;
  size_t len = 0;
  manta_get_bytes(v, &data, &len);
  manta_value_free(v);
  manta_ref_release(r);
  if (len != (size_t)bytes) {
    fprintf(stderr, "metrics_driver: make_bytes(%ld) gave %zu bytes\n", bytes,
            len);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: metrics_driver TASKS FAILS CALLS [BYTES]\n");
    return 2;
  }
  manta_err err = manta_init(NULL);
  if (err) {
    return bad("init", err);
  }
  int rc = run(atol(argv[1]), atol(argv[2]), atol(argv[3]));
  if (rc == 0 && argc == 5) {
    rc = fetch_bytes(atol(argv[4]));
  }
  manta_shutdown();
  if (rc == 0) {
    printf("metrics_driver: done\n");
  }
  return rc;
}
