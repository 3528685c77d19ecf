/* The admin routes: deploy, status and delete over HTTP with JSON. */
#include "serve_admin.h"

#include "serve_config.h"
#include "serve_json.h"
#include "serve_routes.h"
#include "serve_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool json_reply(mt_serve_response *r, int status, manta_value *v) {
  char why[256];
  size_t len = 0;
  char *text = v ? mt_serve_json_encode(v, &len, why, sizeof why) : NULL;
  manta_value_free(v);
  if (!text) {
    return mt_serve_response_text(r, 500, "500 internal error: out of memory");
  }
  mt_serve_response_clear(r);
  r->status = status;
  r->content_type = strdup("application/json");
  r->body = text;
  r->len = len;
  return r->content_type != NULL;
}

/* Deploys one spec or each of a list; all are checked before any is
 * deployed, so a bad file changes nothing. */
static bool deploy(const char *body, size_t len, bool yaml,
                   mt_serve_response *r) {
  char why[512];
  manta_value *v =
      yaml ? mt_serve_yaml_decode(body ? body : "", len, why, sizeof why)
           : mt_serve_json_decode(body ? body : "", len, why, sizeof why);
  if (!v) {
    return mt_serve_response_text(r, 400, "400 bad request: %s", why);
  }
  /* A file's {deployments: [...]} is the list it holds. */
  const manta_value *inner = NULL;
  if (manta_value_kind(v) == MANTA_KIND_MAP &&
      manta_map_find(v, "deployments", &inner) == MANTA_OK) {
    size_t keys = 0;
    manta_len(v, &keys);
    if (keys != 1 || manta_value_kind(inner) != MANTA_KIND_LIST) {
      manta_value_free(v);
      return mt_serve_response_text(
          r, 400,
          "400 bad request: 'deployments' must be the only key and "
          "hold a list");
    }
    manta_value *list = manta_value_ref((manta_value *)inner);
    manta_value_free(v);
    v = list;
  }
  size_t n = 1;
  bool list = manta_value_kind(v) == MANTA_KIND_LIST;
  if (list) {
    manta_len(v, &n);
  }
  mt_serve_spec *specs = calloc(n ? n : 1, sizeof *specs);
  if (!specs) {
    manta_value_free(v);
    return false;
  }
  bool ok = true;
  size_t checked = 0;
  for (; checked < n; checked++) {
    const manta_value *item = v;
    if (list) {
      manta_list_at(v, checked, &item);
    }
    if (mt_serve_spec_from_value(item, &specs[checked], why, sizeof why) !=
        MANTA_OK) {
      ok = mt_serve_response_text(r, 400, "400 bad deployment%s: %s",
                                  list ? " in the list" : "", why);
      break;
    }
  }
  manta_value_free(v);
  if (checked < n) {
    for (size_t i = 0; i < checked; i++) {
      mt_serve_spec_clear(&specs[i]);
    }
    free(specs);
    return ok;
  }
  manta_value *done = manta_list();
  for (size_t i = 0; i < n; i++) {
    char route[256];
    snprintf(route, sizeof route, "%s", specs[i].route);
    manta_err err = mt_serve_sync_put(&specs[i], why, sizeof why);
    if (err != MANTA_OK) {
      for (size_t j = i + 1; j < n; j++) {
        mt_serve_spec_clear(&specs[j]);
      }
      free(specs);
      manta_value_free(done);
      return mt_serve_response_text(r, 500, "500 deploy failed: %s", why);
    }
    if (done) {
      manta_list_push(done, manta_cstring(route));
    }
  }
  free(specs);
  manta_value *m = manta_map();
  if (m) {
    manta_map_put(m, "deployed", done);
  } else {
    manta_value_free(done);
  }
  return json_reply(r, 200, m);
}

bool mt_serve_admin(const char *method, const char *url, const char *type,
                    const char *body, size_t len, bool authorized,
                    mt_serve_response *r) {
  if (!authorized) {
    bool ok = mt_serve_response_text(
        r, 401,
        "401 unauthorized: Serve's admin routes need the cluster "
        "token (Authorization: Bearer TOKEN)");
    return ok && mt_serve_response_add_header(r, "WWW-Authenticate",
                                              "Bearer realm=\"manta\"");
  }
  static const char prefix[] = "/-/routes";
  size_t n = sizeof prefix - 1;
  if (strncmp(url, prefix, n) != 0 || (url[n] && url[n] != '/')) {
    return mt_serve_response_text(r, 404,
                                  "404 not found: the admin routes are "
                                  "/-/routes and /-/routes/ROUTE");
  }
  const char *route = url + n; /* "" or "/echo" */
  if (strcmp(method, "GET") == 0 && !*route) {
    return json_reply(r, 200, mt_serve_routes_status());
  }
  if (strcmp(method, "PUT") == 0 && !*route) {
    bool yaml = type && (strncmp(type, "application/yaml", 16) == 0 ||
                         strncmp(type, "application/x-yaml", 18) == 0 ||
                         strncmp(type, "text/yaml", 9) == 0);
    return deploy(body, len, yaml, r);
  }
  if (strcmp(method, "DELETE") == 0 && *route) {
    if (mt_serve_sync_delete(route) != MANTA_OK) {
      return mt_serve_response_text(r, 404, "404 not found: no route %s",
                                    route);
    }
    return mt_serve_response_text(r, 200, "deleted %s", route);
  }
  bool ok = mt_serve_response_text(
      r, 405,
      "405 method not allowed: GET or PUT /-/routes, DELETE "
      "/-/routes/ROUTE");
  return ok && mt_serve_response_add_header(r, "Allow", "GET, PUT, DELETE");
}
