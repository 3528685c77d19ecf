/*
 * Task dependencies: five `process` tasks (one second each, x -> x*2) feed
 * an `aggregate` task through their refs. aggregate starts once all five are
 * done and receives their values, not the refs. Prints 20 after about one
 * second.
 */
#include <manta.h>

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { N_PARTS = 5 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How many `process` tasks of this process run now, and the most that
 * ever ran at once: the proof that they ran side by side. */
static atomic_int running, most_at_once;

static manta_value *process(const manta_value *const *args, size_t nargs,
                            void *user_data) {
  (void)nargs, (void)user_data;
  int64_t x = 0;
  if (manta_get_int(args[0], &x) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "process takes an int");
  }
  int now = atomic_fetch_add(&running, 1) + 1;
  for (int most = atomic_load(&most_at_once);
       now > most &&
       !atomic_compare_exchange_weak(&most_at_once, &most, now);) {
  }
  struct timespec one_second = {1, 0};
  nanosleep(&one_second, NULL);
  atomic_fetch_sub(&running, 1);
  return manta_int(x * 2);
}

/* Sums its arguments: by now they are values, not refs. */
static manta_value *aggregate(const manta_value *const *args, size_t nargs,
                              void *user_data) {
  (void)user_data;
  int64_t sum = 0;
  for (size_t i = 0; i < nargs; i++) {
    int64_t x = 0;
    if (manta_get_int(args[i], &x) != MANTA_OK) {
      return manta_error(MANTA_ERR_TYPE, "argument %zu is not an int", i);
    }
    sum += x;
  }
  return manta_int(sum);
}

/* Registers what this example offers: main calls it, and so does the
 * examples module (examples_module.c) that lets a node offer it. */
manta_err task_dependencies_register(void);
manta_err task_dependencies_register(void) {
  manta_err err = manta_register_function("process", process, 1, NULL);
  return err ? err : manta_register_function("aggregate", aggregate, -1, NULL);
}

int main(void) {
  manta_options *opts;
  manta_options_new(&opts);
  manta_options_set_num_cpus(opts, N_PARTS); /* the tasks sleep */
  if (manta_init(opts) != MANTA_OK) {
    return 1;
  }
  manta_options_free(opts);
  task_dependencies_register();

  double t0 = now_s();
  manta_value *parts[N_PARTS]; /* refs to the parts, as arguments */
  for (int i = 0; i < N_PARTS; i++) {
    manta_ref r;
    manta_call(&r, "process", 1, manta_int(i));
    parts[i] = manta_ref_take(r); /* the argument takes the ref over */
  }
  manta_ref total;
  manta_callv(&total, "aggregate", parts, N_PARTS, NULL); /* takes them */
  manta_value *v = NULL;
  manta_err err = manta_get(total, 30000, &v);
  char *text = manta_value_repr(v);
  printf("%s\n", text);
  printf("runtime: %.2f s\n", now_s() - t0);
  printf("process tasks running at once: %d of %d\n",
         atomic_load(&most_at_once), N_PARTS);
  manta_free(text);
  manta_value_free(v);
  manta_ref_release(total);
  manta_shutdown();
  return err == MANTA_OK ? 0 : 1;
}
