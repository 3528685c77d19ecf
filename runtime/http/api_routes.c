/*
 * The API routes (docs/observability.md) and the dashboard's files on the
 * node's HTTP server. Every route answers JSON; a failure is JSON too
 * ({"error": "..."}) with a status saying whose it is (503 this node is
 * stopping, 502 the head or a node did not answer).
 */
#include "api_routes.h"

#include "api_gather.h"
#include "api_json.h"
#include "api_logs.h"
#include "api_timeline.h"
#include "dashboard_assets.h"
#include "manta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_reply(mt_http_reply *reply, int status, json_t *doc) {
  reply->status = status;
  reply->content_type = "application/json";
  reply->body = mt_api_dump(doc, &reply->len);
}

static void error_reply(mt_http_reply *reply, int status, const char *why) {
  json_reply(reply, status, json_pack("{s:s}", "error", why));
}

void mt_api_local(const char *path, mt_http_reply *reply) {
  if (strncmp(path, "/api/logs", 9) == 0 &&
      (path[9] == '\0' || path[9] == '?')) {
    mt_api_logs_local(path[9] ? path + 10 : NULL, reply);
    return;
  }
  if (strcmp(path, "/api/timeline") == 0) {
    json_t *doc = mt_api_timeline_local();
    if (doc) {
      json_reply(reply, 200, doc);
    }
    return;
  }
  if (strcmp(path, "/api/node") != 0) {
    error_reply(reply, 404, "no such API path on this node");
    return;
  }
  mt_node_report r;
  if (!mt_node_report_collect(&r)) {
    error_reply(reply, 503, "the runtime is not running");
    return;
  }
  if (manta_node_address(r.address, sizeof r.address) != MANTA_OK) {
    r.address[0] = '\0';
  }
  json_t *doc = mt_api_node_json(&r);
  mt_node_report_free(&r);
  if (doc) {
    json_reply(reply, 200, doc);
  }
}

void mt_api_observe(const char *path, int *status, const char **content_type,
                    char **body, size_t *len) {
  mt_http_reply reply = {.status = *status, .content_type = *content_type};
  mt_api_local(path, &reply);
  *status = reply.status;
  *content_type = reply.content_type;
  *body = reply.body;
  *len = reply.len;
}

static void serve_node(void *arg, mt_http_reply *reply) {
  (void)arg;
  mt_api_local("/api/node", reply);
}

/* This node's log, its last MT_LOG_CHUNK bytes. */
static void serve_logs(void *arg, mt_http_reply *reply) {
  (void)arg;
  mt_api_logs_local(NULL, reply);
}

/* The cluster's trace (manta_timeline's, for a browser or curl). */
static void serve_timeline(void *arg, mt_http_reply *reply) {
  (void)arg;
  char *json = NULL;
  manta_err err = manta_timeline(NULL, NULL, &json);
  if (err != MANTA_OK) {
    error_reply(reply, err == MANTA_ERR_NODE_DIED ? 502 : 503,
                manta_strerror(err));
    return;
  }
  reply->content_type = "application/json";
  reply->body = json;
  reply->len = strlen(json);
}

/* /api/cluster whole, or one of its members (arg: its key). */
static void serve_cluster(void *arg, mt_http_reply *reply) {
  const char *key = arg;
  char why[700];
  json_t *doc = mt_api_cluster_gather(why, sizeof why);
  if (!doc) {
    error_reply(reply, 502, why);
    return;
  }
  if (key) {
    json_t *part = json_incref(json_object_get(doc, key));
    json_decref(doc);
    doc = part;
  }
  json_reply(reply, 200, doc);
}

static void serve_asset(void *arg, mt_http_reply *reply) {
  const mt_asset *a = arg;
  reply->content_type = a->type;
  reply->body = malloc(a->len ? a->len : 1);
  if (reply->body) {
    memcpy(reply->body, a->data, a->len);
    reply->len = a->len;
  }
}

bool mt_api_routes_add(mt_http_server *s) {
  static const char *const parts[] = {"nodes", "actors", "functions", "errors",
                                      "totals"};
  bool ok = mt_http_route(s, "/api/node", serve_node, NULL) &&
            mt_http_route(s, "/api/timeline", serve_timeline, NULL) &&
            mt_http_route(s, "/api/logs", serve_logs, NULL) &&
            mt_http_route(s, "/api/cluster", serve_cluster, NULL);
  for (size_t i = 0; ok && i < sizeof parts / sizeof *parts; i++) {
    char path[64];
    snprintf(path, sizeof path, "/api/%s", parts[i]);
    ok = mt_http_route(s, path, serve_cluster, (void *)parts[i]);
  }
  for (size_t i = 0; ok && i < mt_dashboard_nassets; i++) {
    const mt_asset *a = &mt_dashboard_assets[i];
    if (strcmp(a->path, "/login.html") == 0) {
      mt_http_set_login_page(s, (const char *)a->data, a->len);
    } else {
      ok = mt_http_route(s, a->path, serve_asset, (void *)a);
    }
  }
  return ok;
}
