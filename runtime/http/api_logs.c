/* A node's log (api_logs.h) and manta_node_log. */
#include "api_logs.h"

#include "api_gather.h"
#include "api_routes.h"
#include "cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void text_reply(mt_http_reply *reply, int status, const char *msg) {
  reply->status = status;
  reply->content_type = "text/plain; charset=utf-8";
  reply->body = strdup(msg);
  reply->len = reply->body ? strlen(reply->body) : 0;
}

void mt_api_logs_local(const char *query, mt_http_reply *reply) {
  long long from = -(long long)MT_LOG_CHUNK;
  if (query && strncmp(query, "from=", 5) == 0) {
    char *end;
    errno = 0;
    from = strtoll(query + 5, &end, 10);
    if (errno || *end) {
      text_reply(reply, 400, "from must be a byte offset\n");
      return;
    }
  }
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) {
    text_reply(reply, 404,
               "this node's log is not a file (its standard error is a "
               "terminal or a pipe)\n");
    return;
  }
  /* Opened again rather than read through fd 2: its offset is the
   * writer's, and it may be open for writing only. */
  int fd = open("/proc/self/fd/2", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "cannot read this node's log: %s\n",
             strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    text_reply(reply, 500, msg);
    return;
  }
  long long size = (long long)st.st_size;
  if (from < 0) {
    from = size + from > 0 ? size + from : 0;
  }
  if (from > size) {
    from = size; /* the file was cut: nothing new yet */
  }
  size_t want =
      (size_t)(size - from < MT_LOG_CHUNK ? size - from : MT_LOG_CHUNK);
  char *data = malloc(want + 1);
  ssize_t got = data && want ? pread(fd, data, want, (off_t)from) : 0;
  close(fd);
  if (!data) {
    return;
  }
  if (got < 0) {
    got = 0; /* nothing readable now: ask again from the same place */
  }
  char head[64];
  int hl = snprintf(head, sizeof head, "next %lld\n", from + (long long)got);
  reply->body = malloc((size_t)hl + (size_t)got + 1);
  if (reply->body) {
    memcpy(reply->body, head, (size_t)hl);
    memcpy(reply->body + hl, data, (size_t)got);
    reply->status = 200;
    reply->content_type = "text/plain; charset=utf-8";
    reply->len = (size_t)hl + (size_t)got;
  }
  free(data);
}

/* The node of st that `node` names: its id or a prefix of it (one node),
 * or its address; the head for NULL or "". */
static const Manta__V1__NodeStatus *
find_node(const Manta__V1__ClusterStatusReply *st, const char *node, char *why,
          size_t size) {
  const Manta__V1__NodeStatus *found = NULL;
  size_t matches = 0;
  for (size_t i = 0; i < st->n_nodes; i++) {
    const Manta__V1__NodeStatus *s = st->nodes[i];
    char id[17];
    snprintf(id, sizeof id, "%016" PRIx64, s->info ? s->info->node_id : 0);
    bool is =
        !node || !*node ? s->is_head
        : strchr(node, ':')
            ? s->info && strcmp(s->info->address, node) == 0
            : strncasecmp(id, node, strlen(node)) == 0 && strlen(node) <= 16;
    if (is) {
      found = s;
      matches++;
    }
  }
  if (matches > 1) {
    snprintf(why, size, "%zu nodes have an id starting with %s: give more",
             matches, node);
    return NULL;
  }
  if (!found) {
    snprintf(why, size, "no node %s in the cluster (see manta status)",
             node && *node ? node : "(the head)");
  }
  return found;
}

/* Splits an answer "next N\n<text>". */
static manta_err take_answer(const char *body, size_t len, char **text,
                             size_t *text_len, int64_t *next) {
  const char *nl = memchr(body, '\n', len);
  long long n;
  if (!nl || sscanf(body, "next %lld", &n) != 1) {
    return MANTA_ERR_MALFORMED;
  }
  size_t skip = (size_t)(nl - body) + 1;
  *text = malloc(len - skip + 1);
  if (!*text) {
    return MANTA_ERR_NOMEM;
  }
  memcpy(*text, nl + 1, len - skip);
  (*text)[len - skip] = '\0';
  *text_len = len - skip;
  *next = n;
  return MANTA_OK;
}

/* Asks the node of s for its log through link. */
static manta_err ask(const mt_api_link *link, const Manta__V1__NodeStatus *s,
                     const char *path, char **text, size_t *text_len,
                     int64_t *next, char *why, size_t size) {
  mt_tp_channel *ch =
      mt_tp_channel_open(s->info->address, link->token, link->tls);
  if (!ch) {
    return MANTA_ERR_NOMEM;
  }
  Manta__V1__ObserveRequest req = MANTA__V1__OBSERVE_REQUEST__INIT;
  req.path = (char *)path;
  mt_tp_buf body = {0}, out = {0};
  char detail[600] = "";
  int st = MT_TP_RESOURCE_EXHAUSTED;
  if (mt_wire_pack(&req.base, &body)) {
    st =
        mt_tp_unary_sync(ch, MT_NODE_OBSERVE, body.data, body.len,
                         MT_API_STATUS_TIMEOUT_MS, &out, detail, sizeof detail);
  }
  free(body.data);
  mt_tp_channel_close(ch);
  manta_err err = MANTA_ERR_NODE_DIED;
  Manta__V1__ObserveReply *r =
      st == MT_TP_OK ? manta__v1__observe_reply__unpack(NULL, out.len, out.data)
                     : NULL;
  if (st != MT_TP_OK) {
    snprintf(why, size, "the node at %s did not answer: %s", s->info->address,
             detail[0] ? detail : "unreachable");
  } else if (!r) {
    err = MANTA_ERR_MALFORMED;
    snprintf(why, size, "malformed answer from %s", s->info->address);
  } else if (r->status != 200) {
    err = r->status == 404 ? MANTA_ERR_NOT_FOUND : MANTA_ERR_INTERNAL;
    snprintf(why, size, "the node at %s: %.*s", s->info->address,
             (int)strcspn((const char *)r->body.data, "\n") < (int)r->body.len
                 ? (int)strcspn((const char *)r->body.data, "\n")
                 : (int)r->body.len,
             (const char *)r->body.data);
  } else {
    err = take_answer((const char *)r->body.data, r->body.len, text, text_len,
                      next);
  }
  if (r) {
    manta__v1__observe_reply__free_unpacked(r, NULL);
  }
  free(out.data);
  return err;
}

manta_err manta_node_log(const char *address, const manta_options *opts,
                         const char *node, int64_t from, char **text_out,
                         size_t *len_out, int64_t *next_out) {
  if (!text_out || !len_out || !next_out) {
    return MANTA_ERR_INVALID;
  }
  *text_out = NULL;
  *len_out = 0;
  *next_out = 0;
  char why[800] = "", path[64];
  snprintf(path, sizeof path, "/api/logs?from=%lld", (long long)from);
  mt_api_remote remote = {0};
  const mt_api_link *link;
  mt_api_link own = {mt_head_address(), mt_cl.token, &mt_cl.tp_tls};
  if (address) {
    if (!mt_api_remote_open(&remote, address, opts, why, sizeof why)) {
      mt_log(MT_LOG_ERROR, "logs: %s", why);
      return MANTA_ERR_INVALID;
    }
    link = &remote.link;
  } else if (!manta_is_initialized() || !mt_cl.on) {
    return manta_is_initialized() ? MANTA_ERR_NOT_FOUND
                                  : MANTA_ERR_NOT_INITIALIZED;
  } else {
    link = &own;
  }
  manta_err err = MANTA_ERR_NODE_DIED;
  Manta__V1__ClusterStatusReply *st = mt_api_head_status(link, why, sizeof why);
  const Manta__V1__NodeStatus *s =
      st ? find_node(st, node, why, sizeof why) : NULL;
  if (st && !s) {
    err = MANTA_ERR_NOT_FOUND;
  } else if (s && s->state != MANTA__V1__NODE_STATE__NODE_STATE_ALIVE) {
    snprintf(why, sizeof why, "node %016" PRIx64 " (%s) is dead",
             s->info->node_id, s->info->address);
  } else if (s) {
    err = ask(link, s, path, text_out, len_out, next_out, why, sizeof why);
  }
  if (err != MANTA_OK) {
    mt_log(MT_LOG_ERROR, "logs: %s", why);
  }
  if (st) {
    manta__v1__cluster_status_reply__free_unpacked(st, NULL);
  }
  mt_api_remote_close(&remote);
  return err;
}
