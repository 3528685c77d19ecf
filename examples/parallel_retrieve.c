/*
 * Parallel retrieve: six lookups that each take one second (a slow database
 * or web call), run as tasks side by side. Sequentially this takes six
 * seconds; with manta about one.
 *
 *   parallel_retrieve              run the lookups as manta tasks
 *   parallel_retrieve --compare    also run them one after the other
 */
#include <manta.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *database[] = {"Learning",    "Ray",    "Flexible",
                                 "Distributed", "Python", "Manta"};
enum { N_ITEMS = 6 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How many lookups of this process run now, and the most that ever ran
 * at once: the proof that they ran side by side. */
static atomic_int running, most_at_once;

/* The slow lookup: one second, then the item. */
static manta_value *retrieve(const manta_value *const *args, size_t nargs,
                             void *user_data) {
  (void)nargs, (void)user_data;
  int64_t i = 0;
  if (manta_get_int(args[0], &i) != MANTA_OK || i < 0 || i >= N_ITEMS) {
    return manta_error(MANTA_ERR_INVALID, "no item at that index");
  }
  int now = atomic_fetch_add(&running, 1) + 1;
  for (int most = atomic_load(&most_at_once);
       now > most &&
       !atomic_compare_exchange_weak(&most_at_once, &most, now);) {
  }
  struct timespec one_second = {1, 0};
  nanosleep(&one_second, NULL);
  atomic_fetch_sub(&running, 1);
  return manta_cstring(database[i]);
}

/* Registers what this example offers: main calls it, and so does the
 * examples module (examples_module.c) that lets a node offer it. */
manta_err parallel_retrieve_register(void);
manta_err parallel_retrieve_register(void) {
  return manta_register_function("retrieve", retrieve, 1, NULL);
}

static int run_with_manta(void) {
  /* The lookups wait rather than compute, so the node may run six at once
   * even on fewer cores. */
  manta_options *opts;
  manta_options_new(&opts);
  manta_options_set_num_cpus(opts, N_ITEMS);
  manta_err err = manta_init(opts);
  manta_options_free(opts);
  if (err != MANTA_OK) {
    fprintf(stderr, "manta_init: %s\n", manta_strerror(err));
    return 1;
  }
  parallel_retrieve_register();

  double t0 = now_s();
  manta_ref refs[N_ITEMS];
  for (int i = 0; i < N_ITEMS; i++) {
    manta_call(&refs[i], "retrieve", 1, manta_int(i));
  }
  manta_value *items[N_ITEMS];
  err = manta_get_many(refs, N_ITEMS, 30000, items);
  for (int i = 0; i < N_ITEMS; i++) {
    const char *s = "?";
    size_t len;
    manta_get_string(items[i], &s, &len);
    printf("item %d: %s\n", i, err == MANTA_OK ? s : "(failed)");
    manta_value_free(items[i]);
    manta_ref_release(refs[i]);
  }
  printf("manta: %d items in %.2f s\n", N_ITEMS, now_s() - t0);
  printf("lookups running at once: %d of %d\n", atomic_load(&most_at_once),
         N_ITEMS);
  manta_shutdown();
  return err == MANTA_OK ? 0 : 1;
}

static void run_sequentially(void) {
  double t0 = now_s();
  for (int i = 0; i < N_ITEMS; i++) {
    manta_value *arg = manta_int(i);
    const manta_value *args[1] = {arg};
    manta_value_free(retrieve(args, 1, NULL));
    manta_value_free(arg);
  }
  printf("sequential: %d items in %.2f s\n", N_ITEMS, now_s() - t0);
}

int main(int argc, char **argv) {
  int rc = run_with_manta();
  if (argc > 1 && strcmp(argv[1], "--compare") == 0) {
    run_sequentially();
  }
  return rc;
}
