/* Rate-limited lines for refused calls (runtime/transport/refusals.h), on a
 * clock the test moves: one line per peer per interval, the counts of all
 * lines adding up to the calls refused. */
#include "refusals.h"
#include "test_util.h"

#include <stdio.h>
#include <string.h>

typedef struct lines {
  int n;
  unsigned long long counted; /* the calls the lines account for */
  char last[500];
} lines;

static void collect(void *arg, const char *line) {
  lines *l = arg;
  l->n++;
  snprintf(l->last, sizeof l->last, "%s", line);
  unsigned long long more = 0;
  if (sscanf(line, "transport: refused %llu more call(s)", &more) == 1) {
    l->counted += more;
  } else {
    CHECK(strncmp(line, "transport: refused /", 20) == 0);
    l->counted += 1;
  }
}

static void test_one_peer_burst(void) {
  lines l = {0};
  mt_refusals *r = mt_refusals_new(10000, collect, &l);
  REQUIRE(r);
  /* 1000 refusals within one second, each from a new connection. */
  for (int i = 0; i < 1000; i++) {
    char peer[64];
    snprintf(peer, sizeof peer, "ipv4:127.0.0.1:%d", 40000 + i);
    mt_refusals_note(r, peer, "/manta.v1.Head/ClusterStatus",
                     "missing or wrong cluster token", i);
  }
  CHECK_INT_EQ(l.n, 1);
  CHECK(strstr(l.last, "from ipv4:127.0.0.1:") != NULL);
  mt_refusals_free(r); /* says the 999 counted */
  CHECK_INT_EQ(l.n, 2);
  CHECK(strstr(l.last, "refused 999 more call(s) from ipv4:127.0.0.1") != NULL);
  CHECK_INT_EQ(l.counted, 1000);
}

static void test_one_peer_over_time(void) {
  lines l = {0};
  mt_refusals *r = mt_refusals_new(10000, collect, &l);
  /* 1000 refusals over 100 s: a line at most every 10 s. */
  for (int i = 0; i < 1000; i++) {
    mt_refusals_note(r, "ipv6:[::1]:5555", "/manta.v1.Node/Call", "no token",
                     (int64_t)i * 100);
  }
  CHECK(l.n >= 10 && l.n <= 11);
  mt_refusals_free(r);
  CHECK(l.n <= 12);
  CHECK_INT_EQ(l.counted, 1000);
}

static void test_many_peers(void) {
  lines l = {0};
  mt_refusals *r = mt_refusals_new(10000, collect, &l);
  /* 1000 hosts at once, 5 calls each: the table holds 64, the others
   * share one line. */
  for (int round = 0; round < 5; round++) {
    for (int h = 0; h < 1000; h++) {
      char peer[64];
      snprintf(peer, sizeof peer, "ipv4:10.0.%d.%d:1234", h / 256, h % 256);
      mt_refusals_note(r, peer, "/manta.v1.Node/Call", "no token", round);
    }
  }
  CHECK_INT_EQ(l.n, MT_REFUSALS_PEERS + 1);
  /* An interval later the slots are free again for new peers. */
  int before = l.n;
  mt_refusals_note(r, "ipv4:192.0.2.1:1", "/manta.v1.Node/Call", "no token",
                   20000);
  /* The slot's pending count is said, then the new peer's first line. */
  CHECK_INT_EQ(l.n, before + 2);
  CHECK(strstr(l.last, "from ipv4:192.0.2.1:") != NULL);
  mt_refusals_free(r);
  CHECK(l.n <= 2 * (MT_REFUSALS_PEERS + 1) + 1);
  CHECK_INT_EQ(l.counted, 5001);
}

int main(void) {
  RUN_TEST(test_one_peer_burst);
  RUN_TEST(test_one_peer_over_time);
  RUN_TEST(test_many_peers);
  return mt_test_done();
}
