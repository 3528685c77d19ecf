/*
 * Bytes of objects moved between this node and each other node
 * (manta_transfer_*_bytes_total on /metrics): counted per chunk (up to
 * 1 MiB) by the fetching side (fetch.c's receiver) and the owner's
 * (its sender), under a mutex of their own: a chunk costs far more than
 * the count. At most MT_TRANSFER_PEERS peers are counted; further ones go
 * to node 0 ("_other") so the label set stays bounded.
 */
#ifndef MT_TRANSFER_STATS_H
#define MT_TRANSFER_STATS_H

#include <stddef.h>
#include <stdint.h>

#define MT_TRANSFER_PEERS 256

typedef struct mt_transfer_peer {
  uint64_t node_id; /* 0: the peers beyond MT_TRANSFER_PEERS */
  uint64_t received, sent;
} mt_transfer_peer;

void mt_transfer_note(uint64_t node, uint64_t received, uint64_t sent);
/* Copies the counts (at most max); how many. */
size_t mt_transfer_copy(mt_transfer_peer *out, size_t max);
/* manta_init: counts start at 0. */
void mt_transfer_reset(void);

#endif
