/* Questions about the cluster from outside it: manta_cluster_status asks a
 * head without joining; manta_node_address says where this node serves. */
#include "cluster.h"
#include "local_state.h"
#include "tls_hint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

manta_err manta_node_address(char *buf, size_t size) {
  if (!buf || size == 0) {
    return MANTA_ERR_INVALID;
  }
  manta_err err = MANTA_OK;
  mt_lock();
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (!mt_rt.cluster) {
    err = MANTA_ERR_NOT_FOUND;
  } else if ((size_t)snprintf(buf, size, "%s", mt_cl.address) >= size) {
    err = MANTA_ERR_RANGE;
  }
  mt_unlock();
  return err;
}

static manta_err fail(manta_value **out, manta_err code, const char *fmt,
                      const char *a, const char *b) {
  if (out) {
    *out = mt_error_new(code, "cluster status", fmt, a, b);
  }
  return code;
}

manta_err manta_cluster_status(const char *address, const char *token,
                               int64_t timeout_ms, manta_value **out) {
  manta_options opts;
  memset(&opts, 0, sizeof opts);
  opts.token = (char *)token; /* read only */
  return manta_cluster_status_with(address, &opts, timeout_ms, out);
}

manta_err manta_cluster_status_with(const char *address,
                                    const manta_options *opts,
                                    int64_t timeout_ms, manta_value **out) {
  if (out) {
    *out = NULL;
  }
  if (!address || !strchr(address, ':') || !out) {
    return fail(out, MANTA_ERR_INVALID, "%s%s", "the head's address must be ",
                "HOST:PORT");
  }
  if (strchr(address, ',')) {
    /* A list (head_list.c): the first head that answers. */
    char heads[MT_HEADS_MAX][MT_HEAD_ADDRESS_MAX], bad[300];
    size_t n;
    if (!mt_head_list_parse(address, heads, MT_HEADS_MAX, &n, bad,
                            sizeof bad)) {
      return fail(out, MANTA_ERR_INVALID, "%s%s", "the head's address: ", bad);
    }
    manta_err err = MANTA_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
      if (*out) {
        manta_value_free(*out); /* the error of the head before */
        *out = NULL;
      }
      err = manta_cluster_status_with(heads[i], opts, timeout_ms, out);
      if (err == MANTA_OK) {
        break;
      }
    }
    return err;
  }
  /* Found as manta_init finds it; a token given is checked the same way. */
  char *found = NULL, source[4400], why[4600];
  mt_token_origin origin;
  if (!mt_token_resolve(opts ? opts->token : NULL, false, &found, &origin,
                        source, sizeof source, why, sizeof why)) {
    return fail(out, MANTA_ERR_INVALID, "%s%s",
                "no usable cluster token: ", why);
  }
  mt_tls tls;
  char tls_why[1400];
  if (!mt_tls_resolve(opts ? &opts->tls : NULL, &tls, tls_why,
                      sizeof tls_why)) {
    free(found);
    return fail(out, MANTA_ERR_INVALID, "%s%s", "", tls_why);
  }
  mt_tp_tls tp_tls = {tls.cert, tls.key, tls.ca};
  if (!found) {
    snprintf(why, sizeof why,
             " (this process has none: none given, MANTA_TOKEN and "
             "MANTA_TOKEN_FILE unset, no %s)",
             source);
  } else {
    why[0] = '\0';
  }
  if (!mt_tp_start()) {
    free(found);
    mt_tls_free(&tls);
    return fail(out, MANTA_ERR_INTERNAL, "%s%s", "cannot start gRPC", "");
  }
  mt_tp_channel *ch = mt_tp_channel_open(address, found, &tp_tls);
  free(found);
  if (!ch) {
    mt_tls_free(&tls);
    mt_tp_stop();
    return fail(out, MANTA_ERR_NOMEM, "%s%s", "out of memory", "");
  }
  Manta__V1__ClusterStatusRequest req = MANTA__V1__CLUSTER_STATUS_REQUEST__INIT;
  mt_tp_buf body = {0}, reply = {0};
  char detail[5000] = "";
  int st = MT_TP_RESOURCE_EXHAUSTED;
  if (mt_wire_pack(&req.base, &body)) {
    st = mt_tp_unary_sync(ch, MT_HEAD_STATUS, body.data, body.len,
                          timeout_ms > 0 ? timeout_ms : 5000, &reply, detail,
                          sizeof detail);
  }
  free(body.data);
  mt_tp_channel_close(ch);
  char hint[600] = "";
  if (st == MT_TP_UNAVAILABLE) {
    /* A head that listens but will not talk: most often TLS on one side
     * only, or another CA. */
    mt_tls_hint(address, &tp_tls, hint, sizeof hint);
  }
  mt_tls_free(&tls);
  mt_tp_stop();
  manta_err err = MANTA_OK;
  if (st == MT_TP_OK) {
    Manta__V1__ClusterStatusReply *r =
        manta__v1__cluster_status_reply__unpack(NULL, reply.len, reply.data);
    if (!r) {
      err = fail(out, MANTA_ERR_MALFORMED, "malformed reply from %s%s", address,
                 "");
    } else {
      *out = mt_wire_status_value(r);
      manta__v1__cluster_status_reply__free_unpacked(r, NULL);
      if (!*out) {
        err = fail(out, MANTA_ERR_NOMEM, "%s%s", "out of memory", "");
      }
    }
  } else if (st == MT_TP_UNAUTHENTICATED) {
    strncat(detail, why, sizeof detail - strlen(detail) - 1);
    err = fail(out, MANTA_ERR_INVALID, "the head at %s refused the token: %s",
               address, detail);
  } else if (st == MT_TP_DEADLINE_EXCEEDED || st == MT_TP_UNAVAILABLE) {
    if (hint[0]) {
      snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "%s%s",
               detail[0] ? ": " : "", hint);
    }
    err = fail(out, MANTA_ERR_NODE_DIED, "no head answers at %s: %s", address,
               detail[0] ? detail : "unreachable");
  } else {
    err = fail(out, MANTA_ERR_INTERNAL, "the head at %s answered: %s", address,
               detail);
  }
  free(reply.data);
  return err;
}
