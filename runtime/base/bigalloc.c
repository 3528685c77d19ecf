#include "bigalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||     \
    __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif
#if defined(__x86_64__) && defined(__SSE2__) && !defined(SANITIZED)
#define STREAMING_STORES 1
#include <emmintrin.h>
#endif

#define ALIGN ((size_t)2 << 20) /* a huge page */
#define CACHE_SLOTS 4
#define CACHE_MAX_BYTES ((size_t)1 << 30)

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static void *cache_ptr[CACHE_SLOTS];
static size_t cache_cap[CACHE_SLOTS];
static uint64_t cache_age[CACHE_SLOTS]; /* when freed: older goes first */
static uint64_t cache_clock;
static size_t cache_bytes;

void *mt_big_alloc(size_t len, size_t *cap) {
  if (len > SIZE_MAX - ALIGN) {
    return NULL;
  }
  size_t need = (len + ALIGN - 1) & ~(ALIGN - 1);
  pthread_mutex_lock(&cache_mu);
  for (int i = 0; i < CACHE_SLOTS; i++) {
    /* Reuse a block that fits without wasting more than half of it. */
    if (cache_ptr[i] && cache_cap[i] >= need && cache_cap[i] / 2 <= need) {
      void *p = cache_ptr[i];
      *cap = cache_cap[i];
      cache_ptr[i] = NULL;
      cache_bytes -= *cap;
      pthread_mutex_unlock(&cache_mu);
      return p;
    }
  }
  pthread_mutex_unlock(&cache_mu);
  void *p = mmap(NULL, need, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return NULL;
  }
#ifdef MADV_HUGEPAGE
  (void)madvise(p, need, MADV_HUGEPAGE);
#endif
  *cap = need;
  return p;
}

/* Keeps the block just freed, the likeliest to be wanted again (the next
 * object of the same size), making room by giving back the blocks freed
 * longest ago. */
void mt_big_free(void *p, size_t cap) {
  if (!p) {
    return;
  }
  if (cap > CACHE_MAX_BYTES) {
    munmap(p, cap);
    return;
  }
  void *evicted[CACHE_SLOTS];
  size_t evicted_cap[CACHE_SLOTS];
  int nevicted = 0;
  pthread_mutex_lock(&cache_mu);
  for (;;) {
    int free_slot = -1, oldest = -1;
    for (int i = 0; i < CACHE_SLOTS; i++) {
      if (!cache_ptr[i]) {
        free_slot = free_slot < 0 ? i : free_slot;
      } else if (oldest < 0 || cache_age[i] < cache_age[oldest]) {
        oldest = i;
      }
    }
    if (free_slot >= 0 && cache_bytes + cap <= CACHE_MAX_BYTES) {
      cache_ptr[free_slot] = p;
      cache_cap[free_slot] = cap;
      cache_age[free_slot] = ++cache_clock;
      cache_bytes += cap;
      break;
    }
    evicted[nevicted] = cache_ptr[oldest];
    evicted_cap[nevicted++] = cache_cap[oldest];
    cache_bytes -= cache_cap[oldest];
    cache_ptr[oldest] = NULL;
  }
  pthread_mutex_unlock(&cache_mu);
  for (int i = 0; i < nevicted; i++) {
    munmap(evicted[i], evicted_cap[i]);
  }
}

void mt_big_trim(void) {
  pthread_mutex_lock(&cache_mu);
  for (int i = 0; i < CACHE_SLOTS; i++) {
    if (cache_ptr[i]) {
      munmap(cache_ptr[i], cache_cap[i]);
      cache_ptr[i] = NULL;
    }
  }
  cache_bytes = 0;
  pthread_mutex_unlock(&cache_mu);
}

void mt_big_copy(void *dst, const void *src, size_t n) {
#ifdef STREAMING_STORES
  if (n >= 4096) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    size_t head = (16 - ((uintptr_t)d & 15)) & 15;
    memcpy(d, s, head);
    d += head;
    s += head;
    n -= head;
    for (; n >= 64; n -= 64, d += 64, s += 64) {
      __m128i a = _mm_loadu_si128((const __m128i *)s);
      __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
      __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
      __m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
      _mm_stream_si128((__m128i *)d, a);
      _mm_stream_si128((__m128i *)(d + 16), b);
      _mm_stream_si128((__m128i *)(d + 32), c);
      _mm_stream_si128((__m128i *)(d + 48), e);
    }
    memcpy(d, s, n);
    /* Streaming stores are weakly ordered: done before whoever reads the
     * block is told it may. */
    _mm_sfence();
    return;
  }
#endif
  memcpy(dst, src, n);
}
