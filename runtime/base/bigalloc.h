/*
 * Memory for large payloads (bytes values of 1 MiB and more).
 *
 * A fresh mapping costs a page fault and a kernel zero-fill per page, which
 * is several times the cost of copying the data in. Freed blocks are kept in
 * a small cache and handed out again, the way an object store keeps its
 * memory mapped; huge pages are asked for where the kernel offers them.
 */
#ifndef MT_BIGALLOC_H
#define MT_BIGALLOC_H

#include <stddef.h>

/* Payloads at least this large come from here. */
#define MT_BIG_MIN ((size_t)1 << 20)

/* A block of at least len bytes; *cap is its real size. NULL on failure. */
void *mt_big_alloc(size_t len, size_t *cap);
/* Returns a block to the cache, or to the kernel if the cache is full. */
void mt_big_free(void *p, size_t cap);
/* Gives every cached block back to the kernel (shutdown). */
void mt_big_trim(void);
/* Copies n bytes into a block from here with stores that bypass the CPU
 * cache (x86-64): the block is far larger than the cache, so its lines
 * would only evict what the copying thread reads next, and a store that
 * skips the cache need not read the line first. Plain memcpy elsewhere and
 * under sanitizers, which check it. */
void mt_big_copy(void *dst, const void *src, size_t n);

#endif
