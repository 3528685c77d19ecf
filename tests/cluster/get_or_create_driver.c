/*
 * One of the two drivers of cluster_get_or_create (run-get-or-create-test.sh):
 * it joins the cluster (MANTA_ADDRESS), offers the class Racer, and for each
 * round meets the other driver at a file barrier, then asks
 * manta_actor_get_or_create("race-<run>-<round>", "Racer") at the same
 * moment as the other. Racer's constructor appends "<name> <pid>" to
 * DIR/constructed (O_APPEND: lines from both processes stay whole) and
 * keeps "<pid>:<serial>" as the actor's identity; the driver prints, per
 * round, the identity the actor it got reports and whether it created it.
 * The script checks that both drivers got the same actor every round and
 * that each name was constructed once.
 *
 *   get_or_create_driver ME OTHER DIR ROUNDS
 */
#include <manta.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static atomic_int serial;

typedef struct racer {
  char identity[64];
} racer;

static void *racer_new(const manta_value *const *args, size_t n, void *cd,
                       manta_value **err) {
  (void)cd;
  const char *name;
  size_t len;
  if (n != 1 || manta_get_string(args[0], &name, &len) != MANTA_OK) {
    *err = manta_error(MANTA_ERR_TYPE, "Racer(name) takes a string");
    return NULL;
  }
  racer *r = calloc(1, sizeof *r);
  if (!r) {
    *err = manta_error(MANTA_ERR_NOMEM, "no racer");
    return NULL;
  }
  snprintf(r->identity, sizeof r->identity, "%ld:%d", (long)getpid(),
           atomic_fetch_add(&serial, 1));
  char path[4096], line[256];
  snprintf(path, sizeof path, "%s/constructed", dir);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
  int k = snprintf(line, sizeof line, "%s %ld\n", name, (long)getpid());
  if (fd < 0 || write(fd, line, (size_t)k) != k) {
    *err = manta_error(MANTA_ERR_INTERNAL, "cannot note the constructor: %s",
                       strerror(errno));
  }
  if (fd >= 0) {
    close(fd);
  }
  return r;
}

static void racer_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *racer_identity(void *state, const manta_value *const *args,
                                   size_t n, void *md) {
  (void)args, (void)n, (void)md;
  return manta_str(((racer *)state)->identity);
}

/* Writes DIR/<me>-<tag> and waits (20 s at most) for DIR/<other>-<tag>. */
static int meet(const char *me, const char *other, const char *tag) {
  char mine[4096], theirs[4096];
  snprintf(mine, sizeof mine, "%s/%s-%s", dir, me, tag);
  snprintf(theirs, sizeof theirs, "%s/%s-%s", dir, other, tag);
  int fd = open(mine, O_WRONLY | O_CREAT, 0600);
  if (fd < 0) {
    return -1;
  }
  close(fd);
  /* Polled every 20 µs, so both leave within a fraction of the head's
   * round trip of each other. */
  for (long i = 0; i < 1000000; i++) {
    if (access(theirs, F_OK) == 0) {
      return 0;
    }
    nanosleep(&(struct timespec){0, 20000}, NULL);
  }
  fprintf(stderr, "driver %s: %s never came\n", me, theirs);
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s ME OTHER DIR ROUNDS\n", argv[0]);
    return 2;
  }
  const char *me = argv[1], *other = argv[2];
  dir = argv[3];
  int rounds = atoi(argv[4]);
  manta_err err = manta_init(NULL);
  if (err != MANTA_OK) {
    fprintf(stderr, "driver %s: manta_init: %s\n", me, manta_strerror(err));
    return 1;
  }
  int failed =
      manta_register_class("Racer", racer_new, racer_free, NULL) ||
      manta_register_method("Racer", "identity", racer_identity, 0, NULL);
  /* Both have registered (and so offer Racer) before the first round. */
  failed = failed || meet(me, other, "registered");
  for (int round = 0; !failed && round < rounds; round++) {
    char tag[32], name[64];
    snprintf(tag, sizeof tag, "round-%d", round);
    snprintf(name, sizeof name, "race-%d", round);
    if (meet(me, other, tag) != 0) {
      failed = 1;
      break;
    }
    manta_actor a;
    int created = 0;
    err = manta_actor_get_or_create(name, "Racer",
                                    (manta_value *[]){manta_str(name)}, 1, NULL,
                                    &a, &created);
    if (err != MANTA_OK) {
      fprintf(stderr, "driver %s: round %d: get_or_create: %s\n", me, round,
              manta_errname(err));
      failed = 1;
      break;
    }
    manta_value *v = NULL;
    err = manta_actor_invoke_get_timeout(&v, 30000, a, "identity", 0);
    char *text = manta_value_repr(v);
    printf("round %d actor %s created %d\n", round, text ? text : "?", created);
    failed = err != MANTA_OK;
    manta_free(text);
    manta_value_free(v);
    manta_actor_release(a);
  }
  fflush(stdout);
  /* The other may still call the actors that live here. */
  if (meet(me, other, "end") != 0) {
    failed = 1;
  }
  manta_shutdown();
  return failed;
}
