/* What the head needs to answer a heartbeat with only what changed since
 * the view a node holds (docs/protocol.md, "Heartbeat deltas"): the
 * head's epoch, which tells views of this head's run from those of an
 * earlier one, and the nodes that left (an entry the table no longer has,
 * so a delta cannot list it among the changed ones). Under the directory's
 * mutex. */
#include "clock.h"
#include "cluster.h"
#include "hash.h"

#include <string.h>

void mt_view_log_init(mt_view_log *log) {
  memset(log, 0, sizeof *log);
  /* Keyed by the process's random hash key: another run of a head (even
   * started in the same nanosecond) has another epoch. */
  log->epoch = mt_hash_u64((uint64_t)mt_wall_ns()) | 1;
}

void mt_view_log_gone(mt_view_log *log, uint64_t node_id, uint64_t view) {
  if (log->ngone == MT_VIEW_GONE_KEPT) {
    /* The oldest departure is forgotten: a node whose view predates it
     * can no longer be told by a delta, and gets the whole table. */
    log->floor = log->gone[0].view;
    memmove(log->gone, log->gone + 1, (log->ngone - 1) * sizeof *log->gone);
    log->ngone--;
  }
  log->gone[log->ngone].node_id = node_id;
  log->gone[log->ngone].view = view;
  log->ngone++;
}

bool mt_view_log_can_delta(const mt_view_log *log, uint64_t known_epoch,
                           uint64_t known_view, uint64_t view) {
  return known_view != 0 && known_epoch == log->epoch &&
         known_view >= log->floor && known_view <= view;
}

size_t mt_view_log_gone_since(const mt_view_log *log, uint64_t known_view,
                              uint64_t *out) {
  size_t k = 0;
  for (size_t i = 0; i < log->ngone; i++) {
    if (log->gone[i].view > known_view) {
      out[k++] = log->gone[i].node_id;
    }
  }
  return k;
}
