/* Bytes moved per peer (transfer_stats.h). */
#include "transfer_stats.h"

#include <pthread.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static mt_transfer_peer peers[MT_TRANSFER_PEERS + 1]; /* mu; +1: _other */
static size_t npeers;                                 /* mu */

void mt_transfer_note(uint64_t node, uint64_t received, uint64_t sent) {
  pthread_mutex_lock(&mu);
  mt_transfer_peer *p = NULL;
  for (size_t i = 0; i < npeers && !p; i++) {
    p = peers[i].node_id == node ? &peers[i] : NULL;
  }
  if (!p) {
    p = &peers[npeers < MT_TRANSFER_PEERS ? npeers : MT_TRANSFER_PEERS];
    p->node_id = npeers < MT_TRANSFER_PEERS ? node : 0;
    npeers += npeers < MT_TRANSFER_PEERS;
  }
  p->received += received;
  p->sent += sent;
  pthread_mutex_unlock(&mu);
}

size_t mt_transfer_copy(mt_transfer_peer *out, size_t max) {
  pthread_mutex_lock(&mu);
  size_t n = 0;
  for (size_t i = 0; i <= MT_TRANSFER_PEERS && n < max; i++) {
    if (i < npeers ||
        (i == MT_TRANSFER_PEERS && (peers[i].received || peers[i].sent))) {
      out[n++] = peers[i];
    }
  }
  pthread_mutex_unlock(&mu);
  return n;
}

void mt_transfer_reset(void) {
  pthread_mutex_lock(&mu);
  memset(peers, 0, sizeof peers);
  npeers = 0;
  pthread_mutex_unlock(&mu);
}
