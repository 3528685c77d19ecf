/* The head's node table as this node last heard it: what a heartbeat reply
 * that carries only changes (docs/protocol.md, "Heartbeat deltas") is
 * applied to before it becomes the view (node.c). Touched by the heartbeat
 * thread only. */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

static Manta__V1__NodeStatus *copy_status(const Manta__V1__NodeStatus *s) {
  mt_tp_buf b;
  if (!mt_wire_pack(&s->base, &b)) {
    return NULL;
  }
  Manta__V1__NodeStatus *c =
      manta__v1__node_status__unpack(NULL, b.len, b.data);
  free(b.data);
  return c;
}

static uint64_t id_of(const Manta__V1__NodeStatus *s) {
  return s->info ? s->info->node_id : 0;
}

static void drop_at(mt_view_table *t, size_t i) {
  manta__v1__node_status__free_unpacked(t->nodes[i], NULL);
  t->nodes[i] = t->nodes[--t->n];
}

static void clear(mt_view_table *t) {
  while (t->n) {
    drop_at(t, t->n - 1);
  }
}

void mt_view_table_free(mt_view_table *t) {
  clear(t);
  free(t->nodes);
  memset(t, 0, sizeof *t);
}

/* Adds s, or replaces the entry of the same node; false on OOM. */
static bool put(mt_view_table *t, const Manta__V1__NodeStatus *s) {
  Manta__V1__NodeStatus *c = copy_status(s);
  if (!c) {
    return false;
  }
  for (size_t i = 0; i < t->n; i++) {
    if (id_of(t->nodes[i]) == id_of(c)) {
      manta__v1__node_status__free_unpacked(t->nodes[i], NULL);
      t->nodes[i] = c;
      return true;
    }
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    Manta__V1__NodeStatus **grown = realloc(t->nodes, cap * sizeof *grown);
    if (!grown) {
      manta__v1__node_status__free_unpacked(c, NULL);
      return false;
    }
    t->nodes = grown;
    t->cap = cap;
  }
  t->nodes[t->n++] = c;
  return true;
}

bool mt_view_table_apply(mt_view_table *t, const Manta__V1__HeartbeatReply *r) {
  if (!r->delta) {
    clear(t); /* the whole table: from another head run, or an older head */
  }
  for (size_t g = 0; g < r->n_gone; g++) {
    for (size_t i = 0; i < t->n; i++) {
      if (id_of(t->nodes[i]) == r->gone[g]) {
        drop_at(t, i);
        break;
      }
    }
  }
  bool ok = true;
  for (size_t i = 0; ok && i < r->n_nodes; i++) {
    ok = put(t, r->nodes[i]);
  }
  /* A table that missed part of a reply asks for the whole one next. */
  t->view = ok ? r->view : 0;
  t->epoch = ok ? r->epoch : 0;
  return !r->delta || r->n_nodes > 0 || r->n_gone > 0;
}
