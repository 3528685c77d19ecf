/* The checked-id slot table (runtime/core/slots.c) that holds objects and
 * actors: ids find their element until it is freed, never after; slots
 * are reused with a new generation; elements never move as the table
 * grows; ids of another epoch, index or generation find nothing. */
#include "slots.h"
#include "test_util.h"

#include <string.h>

typedef struct elem {
  mt_slot hdr;
  uint64_t payload;
  char pad[40];
} elem;

static void alloc_find_free(void) {
  mt_slots t;
  mt_slots_init(&t, sizeof(elem), 4, 7);
  elem *a = mt_slots_alloc(&t);
  REQUIRE(a);
  CHECK(a->hdr.live);
  CHECK(a->payload == 0);
  uint64_t id = mt_slots_id(&t, a);
  CHECK((id >> 56) == 7);   /* the epoch */
  CHECK((uint32_t)id == 1); /* index + 1: never 0 */
  CHECK(mt_slots_find(&t, id) == a);
  a->payload = 99;
  mt_slots_free(&t, a);
  CHECK(mt_slots_find(&t, id) == NULL);
  /* The slot is reused, zeroed, under a new generation: the old id stays
   * stale, the new one works. */
  elem *b = mt_slots_alloc(&t);
  CHECK(b == a);
  CHECK(b->payload == 0);
  uint64_t id2 = mt_slots_id(&t, b);
  CHECK(id2 != id);
  CHECK((uint32_t)id2 == (uint32_t)id);
  CHECK(mt_slots_find(&t, id) == NULL);
  CHECK(mt_slots_find(&t, id2) == b);
  mt_slots_destroy(&t);
}

/* Ids nobody was given: index 0, beyond the table, another epoch. */
static void forged_ids(void) {
  mt_slots t;
  mt_slots_init(&t, sizeof(elem), 4, 3);
  elem *a = mt_slots_alloc(&t);
  REQUIRE(a);
  uint64_t id = mt_slots_id(&t, a);
  CHECK(mt_slots_find(&t, 0) == NULL);
  CHECK(mt_slots_find(&t, id & ~(uint64_t)0xffffffffu) == NULL);
  CHECK(mt_slots_find(&t, id + 1) == NULL); /* index 2: not used yet */
  CHECK(mt_slots_find(&t, id | 0xffffffffu) == NULL);
  CHECK(mt_slots_find(&t, (id & ~(0xffULL << 56)) | (4ULL << 56)) == NULL);
  CHECK(mt_slots_find(&t, id ^ (1ULL << 32)) == NULL); /* generation */
  CHECK(mt_slots_find(&t, UINT64_MAX) == NULL);
  /* The same slot in a table of the next epoch (a restarted runtime). */
  mt_slots u;
  mt_slots_init(&u, sizeof(elem), 4, 4);
  elem *b = mt_slots_alloc(&u);
  REQUIRE(b);
  CHECK(mt_slots_find(&u, id) == NULL);
  CHECK(mt_slots_find(&t, mt_slots_id(&u, b)) == NULL);
  mt_slots_destroy(&u);
  mt_slots_destroy(&t);
}

/* Growth adds chunks; an element's address never changes (callers keep
 * pointers to live slots), and mt_slots_at walks every slot. */
static void grows_without_moving(void) {
  mt_slots t;
  mt_slots_init(&t, sizeof(elem), 2, 1); /* 4 slots a chunk */
  enum { N = 2000 };
  static elem *ptr[N];
  static uint64_t ids[N];
  for (int i = 0; i < N; i++) {
    ptr[i] = mt_slots_alloc(&t);
    REQUIRE(ptr[i]);
    ptr[i]->payload = (uint64_t)i * 3;
    ids[i] = mt_slots_id(&t, ptr[i]);
  }
  CHECK_INT_EQ(t.used, N);
  CHECK_INT_EQ(t.nchunks, N / 4);
  for (int i = 0; i < N; i++) {
    CHECK(mt_slots_find(&t, ids[i]) == ptr[i]);
    CHECK(ptr[i]->payload == (uint64_t)i * 3);
    CHECK(mt_slots_at(&t, (size_t)i) == ptr[i]);
  }
  /* Free every third; those are reused before the table grows again. */
  for (int i = 0; i < N; i += 3) {
    mt_slots_free(&t, ptr[i]);
  }
  size_t chunks = t.nchunks;
  for (int i = 0; i < N; i += 3) {
    elem *e = mt_slots_alloc(&t);
    REQUIRE(e);
    CHECK(e->hdr.idx % 3 == 0);
    CHECK(mt_slots_find(&t, ids[e->hdr.idx]) == NULL);
  }
  CHECK_INT_EQ(t.nchunks, chunks);
  CHECK_INT_EQ(t.used, N);
  int live = 0;
  for (size_t i = 0; i < t.used; i++) {
    live += ((mt_slot *)mt_slots_at(&t, i))->live;
  }
  CHECK_INT_EQ(live, N);
  mt_slots_destroy(&t);
  CHECK(t.nchunks == 0 && t.used == 0 && t.free == 0);
}

/* A slot freed 2^24 times wraps its 24-bit generation: the id keeps its
 * epoch and index, and the id of the generation just before stays stale
 * across the wrap. */
static void generation_wraps(void) {
  mt_slots t;
  mt_slots_init(&t, sizeof(mt_slot), 2, 0xab);
  mt_slot *s = mt_slots_alloc(&t);
  REQUIRE(s);
  uint64_t first = mt_slots_id(&t, s), prev = first;
  for (uint32_t i = 0; i < (1u << 24); i++) {
    mt_slots_free(&t, s);
    mt_slot *again = mt_slots_alloc(&t);
    REQUIRE(again == s);
    uint64_t id = mt_slots_id(&t, s);
    if ((id >> 56) != 0xab || (uint32_t)id != 1 ||
        mt_slots_find(&t, prev) != NULL) {
      CHECK(!"id malformed or stale id found");
      break;
    }
    prev = id;
  }
  CHECK(s->gen == 0); /* wrapped */
  CHECK(mt_slots_id(&t, s) == first);
  mt_slots_destroy(&t);
}

int main(void) {
  RUN_TEST(alloc_find_free);
  RUN_TEST(forged_ids);
  RUN_TEST(grows_without_moving);
  RUN_TEST(generation_wraps);
  return mt_test_done();
}
