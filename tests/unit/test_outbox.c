/* The outbox (runtime/cluster/outbox.c): messages framed as
 * length-delimited fields, taken all at once up to the 4 MiB a gRPC
 * message carries, whole fields only and in order; and, as peers use it,
 * producers adding from many threads while a stream takes. */
#include "cluster.h"
#include "pbwire.h"
#include "test_util.h"

#include <pthread.h>
#include <string.h>

#define MAX_SEND (4u << 20)

/* Parses fields out of b[0..n): calls fn per field; false on bad framing. */
static bool each_field(const uint8_t *b, size_t n,
                       void (*fn)(uint8_t tag, const uint8_t *body, size_t len,
                                  void *arg),
                       void *arg) {
  size_t at = 0;
  while (at < n) {
    uint64_t len;
    size_t k = mt_pb_get_varint(b + at + 1, n - at - 1, 5, &len);
    if (!k || len > n - at - 1 - k) {
      return false;
    }
    fn(b[at], b + at + 1 + k, (size_t)len, arg);
    at += 1 + k + (size_t)len;
  }
  return true;
}

typedef struct collected {
  int n;
  uint8_t tags[8];
  char bodies[8][32];
} collected;

static void collect(uint8_t tag, const uint8_t *body, size_t len, void *arg) {
  collected *c = arg;
  if (c->n < 8 && len < 32) {
    c->tags[c->n] = tag;
    memcpy(c->bodies[c->n], body, len);
    c->bodies[c->n][len] = 0;
  }
  c->n++;
}

static void frames_and_takes(void) {
  mt_outbox o;
  mt_outbox_init(&o);
  mt_tp_buf b = {0};
  CHECK(mt_outbox_is_empty(&o));
  CHECK(!mt_outbox_take(&o, &b));
  bool was_empty = false;
  REQUIRE(mt_outbox_add(&o, 1, (const uint8_t *)"task", 4, &was_empty));
  CHECK(was_empty);
  REQUIRE(mt_outbox_add(&o, 3, (const uint8_t *)"", 0, &was_empty));
  CHECK(!was_empty);
  REQUIRE(mt_outbox_add(&o, 2, (const uint8_t *)"result", 6, &was_empty));
  CHECK(!was_empty);
  CHECK(!mt_outbox_is_empty(&o));
  REQUIRE(mt_outbox_take(&o, &b));
  CHECK(mt_outbox_is_empty(&o));
  CHECK_INT_EQ(b.len, 6 + 2 + 8);
  collected c = {0};
  CHECK(each_field(b.data, b.len, collect, &c));
  CHECK_INT_EQ(c.n, 3);
  CHECK(c.tags[0] == MT_PB_TAG(1, MT_PB_LEN));
  CHECK(c.tags[1] == MT_PB_TAG(3, MT_PB_LEN));
  CHECK(c.tags[2] == MT_PB_TAG(2, MT_PB_LEN));
  CHECK(strcmp(c.bodies[0], "task") == 0);
  CHECK(strcmp(c.bodies[1], "") == 0);
  CHECK(strcmp(c.bodies[2], "result") == 0);
  free(b.data);
  /* Empty again: the next add starts a send. */
  REQUIRE(mt_outbox_add(&o, 1, (const uint8_t *)"x", 1, &was_empty));
  CHECK(was_empty);
  mt_outbox_clear(&o);
  CHECK(mt_outbox_is_empty(&o));
  CHECK(!mt_outbox_take(&o, &b));
  mt_outbox_destroy(&o);
}

typedef struct sizes {
  int n;
  size_t len[64];
  uint8_t first[64];
} sizes;

static void note_size(uint8_t tag, const uint8_t *body, size_t len, void *arg) {
  (void)tag;
  sizes *s = arg;
  if (s->n < 64) {
    s->len[s->n] = len;
    s->first[s->n] = len ? body[0] : 0;
  }
  s->n++;
}

/* Past 4 MiB a take stops at the last whole field that fits; what is left
 * comes next, in order; a field larger than the limit goes alone. */
static void takes_at_most_a_message(void) {
  mt_outbox o;
  mt_outbox_init(&o);
  size_t big = 1u << 20; /* 1 MiB bodies: four do not fit with framing */
  uint8_t *body = malloc(5u << 20);
  REQUIRE(body);
  bool was_empty;
  for (int i = 0; i < 6; i++) {
    memset(body, 'a' + i, big);
    REQUIRE(mt_outbox_add(&o, 1, body, big, &was_empty));
  }
  memset(body, 'z', 5u << 20);
  REQUIRE(mt_outbox_add(&o, 1, body, 5u << 20, &was_empty));
  REQUIRE(mt_outbox_add(&o, 1, (const uint8_t *)"end", 3, &was_empty));
  mt_tp_buf b;
  sizes s[4] = {{0}};
  for (int t = 0; t < 4; t++) {
    REQUIRE(mt_outbox_take(&o, &b));
    CHECK(each_field(b.data, b.len, note_size, &s[t]));
    CHECK(b.len <= MAX_SEND || s[t].n == 1);
    free(b.data);
  }
  CHECK(!mt_outbox_take(&o, &b));
  /* 3 x (1 MiB + 4 bytes of framing) fit, a fourth would not. */
  CHECK_INT_EQ(s[0].n, 3);
  CHECK(s[0].first[0] == 'a' && s[0].first[2] == 'c');
  CHECK_INT_EQ(s[1].n, 3);
  CHECK(s[1].first[0] == 'd' && s[1].first[2] == 'f');
  CHECK_INT_EQ(s[2].n, 1); /* 5 MiB, alone */
  CHECK(s[2].len[0] == 5u << 20 && s[2].first[0] == 'z');
  CHECK_INT_EQ(s[3].n, 1);
  CHECK(s[3].len[0] == 3 && s[3].first[0] == 'e');
  free(body);
  mt_outbox_destroy(&o);
}

/* Producers on several threads (tasks submitted from workers) while one
 * thread takes (the stream's fill): every message arrives once, whole,
 * each producer's in the order it added them. */
enum { PRODUCERS = 4, PER = 20000 };

static mt_outbox shared;
static atomic_int adds_done;

static void *produce(void *arg) {
  uint8_t who = (uint8_t)(uintptr_t)arg;
  for (uint32_t i = 0; i < PER; i++) {
    uint8_t msg[8] = {who};
    memcpy(msg + 1, &i, sizeof i);
    bool was_empty;
    while (
        !mt_outbox_add(&shared, 1, msg, 1 + sizeof i + who % 3, &was_empty)) {
    }
  }
  atomic_fetch_add(&adds_done, 1);
  return NULL;
}

typedef struct order {
  int64_t next[PRODUCERS];
  int bad;
  int64_t total;
} order;

static void check_order(uint8_t tag, const uint8_t *body, size_t len,
                        void *arg) {
  order *o = arg;
  uint32_t i;
  if (tag != MT_PB_TAG(1, MT_PB_LEN) || len < 5 || body[0] >= PRODUCERS ||
      len != 5 + (size_t)(body[0] % 3)) {
    o->bad++;
    return;
  }
  memcpy(&i, body + 1, sizeof i);
  if (i != o->next[body[0]]) {
    o->bad++;
  }
  o->next[body[0]] = (int64_t)i + 1;
  o->total++;
}

static void concurrent_add_and_take(void) {
  mt_outbox_init(&shared);
  pthread_t th[PRODUCERS];
  for (uintptr_t i = 0; i < PRODUCERS; i++) {
    REQUIRE(pthread_create(&th[i], NULL, produce, (void *)i) == 0);
  }
  order o = {{0}, 0, 0};
  mt_tp_buf b;
  /* Bounded: every round either takes something or sees the producers
   * still running; they finish in a few thousand rounds at most. */
  for (long round = 0; round < 100000000L; round++) {
    bool done = atomic_load(&adds_done) == PRODUCERS;
    if (mt_outbox_take(&shared, &b)) {
      CHECK(each_field(b.data, b.len, check_order, &o));
      free(b.data);
    } else if (done) {
      break;
    }
  }
  for (int i = 0; i < PRODUCERS; i++) {
    pthread_join(th[i], NULL);
  }
  CHECK_INT_EQ(o.bad, 0);
  CHECK_INT_EQ(o.total, (int64_t)PRODUCERS * PER);
  CHECK(mt_outbox_is_empty(&shared));
  mt_outbox_destroy(&shared);
}

int main(void) {
  RUN_TEST(frames_and_takes);
  RUN_TEST(takes_at_most_a_message);
  RUN_TEST(concurrent_add_and_take);
  return mt_test_done();
}
