#include "hash.h"

#include "clock.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static uint64_t key[2];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_init(void) {
  uint64_t k[2] = {0, 0};
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, k, sizeof k) != (ssize_t)sizeof k) {
    /* No urandom (a bare chroot): still unknown to a remote peer. */
    k[0] = (uint64_t)mt_wall_ns() ^ ((uint64_t)getpid() << 32);
    k[1] = (uint64_t)mt_now_ns() * 0x9e3779b97f4a7c15ULL ^
           (uint64_t)(uintptr_t)&key;
  }
  if (fd >= 0) {
    close(fd);
  }
  key[0] = k[0];
  key[1] = k[1];
}

static inline uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

#define SIP_ROUND()                                                            \
  do {                                                                         \
    v0 += v1;                                                                  \
    v1 = rotl(v1, 13);                                                         \
    v1 ^= v0;                                                                  \
    v0 = rotl(v0, 32);                                                         \
    v2 += v3;                                                                  \
    v3 = rotl(v3, 16);                                                         \
    v3 ^= v2;                                                                  \
    v0 += v3;                                                                  \
    v3 = rotl(v3, 21);                                                         \
    v3 ^= v0;                                                                  \
    v2 += v1;                                                                  \
    v1 = rotl(v1, 17);                                                         \
    v1 ^= v2;                                                                  \
    v2 = rotl(v2, 32);                                                         \
  } while (0)

static inline uint64_t load_le(const uint8_t *p, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; i++) {
    w |= (uint64_t)p[i] << (8 * i);
  }
  return w;
}

/* SipHash-1-3 in three steps: the state from a key, one 8-byte block
 * through one compression round, the three finalisation rounds. */
#define SIP_INIT(k)                                                            \
  uint64_t v0 = 0x736f6d6570736575ULL ^ (k)[0];                                \
  uint64_t v1 = 0x646f72616e646f6dULL ^ (k)[1];                                \
  uint64_t v2 = 0x6c7967656e657261ULL ^ (k)[0];                                \
  uint64_t v3 = 0x7465646279746573ULL ^ (k)[1]

#define SIP_BLOCK(w)                                                           \
  do {                                                                         \
    v3 ^= (w);                                                                 \
    SIP_ROUND();                                                               \
    v0 ^= (w);                                                                 \
  } while (0)

#define SIP_FINISH()                                                           \
  do {                                                                         \
    v2 ^= 0xff;                                                                \
    SIP_ROUND();                                                               \
    SIP_ROUND();                                                               \
    SIP_ROUND();                                                               \
  } while (0)

uint64_t mt_siphash13(const uint64_t k[2], const void *data, size_t n) {
  const uint8_t *p = data;
  SIP_INIT(k);
  size_t full = n & ~(size_t)7;
  for (size_t i = 0; i < full; i += 8) {
    SIP_BLOCK(load_le(p + i, 8));
  }
  SIP_BLOCK(((uint64_t)(n & 0xff) << 56) | load_le(p + full, n - full));
  SIP_FINISH();
  return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t mt_hash_bytes(const void *p, size_t n) {
  pthread_once(&key_once, key_init);
  return mt_siphash13(key, p, n);
}

uint64_t mt_hash_str(const char *s) {
  return mt_hash_bytes(s, strlen(s));
}

/* mt_siphash13 of x's 8 bytes, unrolled: one block, then the length
 * block. The id maps hash on every task sent and answered. */
uint64_t mt_hash_u64(uint64_t x) {
  pthread_once(&key_once, key_init);
  SIP_INIT(key);
  SIP_BLOCK(x);
  SIP_BLOCK((uint64_t)8 << 56);
  SIP_FINISH();
  return v0 ^ v1 ^ v2 ^ v3;
}
