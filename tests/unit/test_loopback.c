/* The loopback test of bind addresses (runtime/base/loopback.h): by
 * address, every address a name resolves to. Names other than localhost go
 * through a fake resolver, so the test asks no DNS server anything. */
#include "loopback.h"
#include "test_util.h"

#include <string.h>

/* The addresses the fake names stand for, as numeric hosts that
 * getaddrinfo answers without asking anyone. */
static int fake_resolve(const char *node, const char *service,
                        const struct addrinfo *hints, struct addrinfo **res) {
  struct addrinfo numeric = *hints;
  numeric.ai_flags |= AI_NUMERICHOST;
  if (strcmp(node, "127.evil.example") == 0) {
    return getaddrinfo("203.0.113.7", service, &numeric, res);
  }
  if (strcmp(node, "loop.example") == 0) {
    return getaddrinfo("127.0.0.2", service, &numeric, res);
  }
  if (strcmp(node, "mixed.example") == 0) {
    /* Loopback first, then a public address: one is enough to refuse. */
    struct addrinfo *a = NULL, *b = NULL;
    if (getaddrinfo("127.0.0.1", service, &numeric, &a) != 0) {
      return EAI_FAIL;
    }
    if (getaddrinfo("2001:db8::1", service, &numeric, &b) != 0) {
      freeaddrinfo(a);
      return EAI_FAIL;
    }
    struct addrinfo *tail = a;
    while (tail->ai_next) {
      tail = tail->ai_next;
    }
    tail->ai_next = b;
    *res = a;
    return 0;
  }
  if (strcmp(node, "nxdomain.example") == 0) {
    return EAI_NONAME;
  }
  return getaddrinfo(node, service, &numeric, res);
}

static void test_numeric(void) {
  CHECK(mt_bind_is_loopback("127.0.0.1:0", NULL));
  CHECK(mt_bind_is_loopback("127.1.2.3:6390", NULL));
  CHECK(mt_bind_is_loopback("[::1]:0", NULL));
  CHECK(mt_bind_is_loopback("[::ffff:127.0.0.1]:0", NULL));
  CHECK(!mt_bind_is_loopback("0.0.0.0:0", NULL));
  CHECK(!mt_bind_is_loopback("[::]:0", NULL));
  CHECK(!mt_bind_is_loopback("10.0.0.1:0", NULL));
  CHECK(!mt_bind_is_loopback("128.0.0.1:0", NULL));
  CHECK(!mt_bind_is_loopback("[::2]:0", NULL));
  CHECK(!mt_bind_is_loopback("[::ffff:10.0.0.1]:0", NULL));
  CHECK(!mt_bind_is_loopback(":0", NULL));        /* no host: every interface */
  CHECK(!mt_bind_is_loopback("127.0.0.1", NULL)); /* no port */
}

static void test_names(void) {
  /* localhost is in /etc/hosts: loopback, whatever it resolves to. */
  CHECK(mt_bind_is_loopback("localhost:0", NULL));
  CHECK(!mt_bind_is_loopback("127.evil.example:0", fake_resolve));
  CHECK(mt_bind_is_loopback("loop.example:0", fake_resolve));
  CHECK(!mt_bind_is_loopback("mixed.example:0", fake_resolve));
  CHECK(!mt_bind_is_loopback("nxdomain.example:0", fake_resolve));
}

int main(void) {
  RUN_TEST(test_numeric);
  RUN_TEST(test_names);
  return mt_test_done();
}
