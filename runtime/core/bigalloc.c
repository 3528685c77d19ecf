#include "bigalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#define ALIGN ((size_t)2 << 20) /* a huge page */
#define CACHE_SLOTS 4
#define CACHE_MAX_BYTES ((size_t)1 << 30)

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static void *cache_ptr[CACHE_SLOTS];
static size_t cache_cap[CACHE_SLOTS];
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

void mt_big_free(void *p, size_t cap) {
  if (!p) {
    return;
  }
  pthread_mutex_lock(&cache_mu);
  if (cache_bytes + cap <= CACHE_MAX_BYTES) {
    for (int i = 0; i < CACHE_SLOTS; i++) {
      if (!cache_ptr[i]) {
        cache_ptr[i] = p;
        cache_cap[i] = cap;
        cache_bytes += cap;
        pthread_mutex_unlock(&cache_mu);
        return;
      }
    }
  }
  pthread_mutex_unlock(&cache_mu);
  munmap(p, cap);
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
