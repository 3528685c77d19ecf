/* Values <-> JSON and requests/responses <-> values (runtime/serve,
 * docs/serve.md): every row of the documented tables, and bad input. */
#include "serve_config.h"
#include "serve_json.h"
#include "serve_message.h"
#include "test_util.h"

#include <string.h>

static char why[512];

/* JSON text -> value -> JSON text gives `want`. */
static void round_trip(const char *text, const char *want) {
  manta_value *v = mt_serve_json_decode(text, strlen(text), why, sizeof why);
  CHECK(v != NULL);
  if (!v) {
    fprintf(stderr, "decode %s: %s\n", text, why);
    return;
  }
  size_t len = 0;
  char *out = mt_serve_json_encode(v, &len, why, sizeof why);
  CHECK(out && strcmp(out, want) == 0 && len == strlen(want));
  if (!out || strcmp(out, want) != 0) {
    fprintf(stderr, "%s -> %s, expected %s\n", text, out ? out : why, want);
  }
  free(out);
  manta_value_free(v);
}

static void bad_json(const char *text, size_t len, const char *cause) {
  manta_value *v = mt_serve_json_decode(text, len, why, sizeof why);
  CHECK(v == NULL);
  CHECK(strstr(why, cause) != NULL);
  if (!strstr(why, cause)) {
    fprintf(stderr, "bad JSON gave '%s', expected it to say '%s'\n", why,
            cause);
  }
  manta_value_free(v);
}

static void bad_value(manta_value *v, const char *cause) {
  size_t len;
  char *out = mt_serve_json_encode(v, &len, why, sizeof why);
  CHECK(out == NULL);
  CHECK(strstr(why, cause) != NULL);
  if (!strstr(why, cause)) {
    fprintf(stderr, "encode gave '%s', expected '%s'\n", why, cause);
  }
  free(out);
  manta_value_free(v);
}

static void test_json(void) {
  round_trip("null", "null");
  round_trip("[true, false, 1, -9223372036854775808, 2.5, \"h\\u00e9\"]",
             "[true,false,1,-9223372036854775808,2.5,\"h\xc3\xa9\"]");
  round_trip("{\"a\": {\"b\": [1, {}]}, \"c\": \"\\u0000x\"}",
             "{\"a\":{\"b\":[1,{}]},\"c\":\"\\u0000x\"}");
  /* The JSON type kept: 1 is an int, 1.0 a double. */
  manta_value *v = mt_serve_json_decode("[1, 1.0]", 8, why, sizeof why);
  const manta_value *item = NULL;
  REQUIRE(v);
  manta_list_at(v, 0, &item);
  CHECK(manta_value_kind(item) == MANTA_KIND_INT);
  manta_list_at(v, 1, &item);
  CHECK(manta_value_kind(item) == MANTA_KIND_DOUBLE);
  manta_value_free(v);

  bad_json("{\"a\": ", 6, "line 1");
  bad_json("{\"a\": 1, \"a\": 2}", 16, "duplicate");
  bad_json("[1] x", 5, "end of file expected");
  bad_json("99999999999999999999", 20, "too big");
  bad_json("\"\xff\"", 3, "unable to decode byte 0xff");
  bad_json("", 0, "line");
  char deep[2 * (MANTA_MAX_DEPTH + 2)];
  memset(deep, '[', MANTA_MAX_DEPTH + 2);
  memset(deep + MANTA_MAX_DEPTH + 2, ']', MANTA_MAX_DEPTH + 2);
  bad_json(deep, sizeof deep, "deeper");

  /* The kinds JSON lacks, tagged; those it cannot carry, refused. */
  manta_value *list = manta_list();
  manta_list_push(list, manta_bytes("\x00\xffhi", 4));
  manta_list_push(list, manta_bytes("a", 1));
  manta_list_push(list, manta_error(MANTA_ERR_TIMEOUT, "slow %d", 3));
  size_t len;
  char *out = mt_serve_json_encode(list, &len, why, sizeof why);
  CHECK(out && strcmp(out, "[{\"$bytes\":\"AP9oaQ==\"},{\"$bytes\":\"YQ==\"},"
                           "{\"$error\":{\"kind\":\"MANTA_ERR_TIMEOUT\","
                           "\"message\":\"slow 3\"}}]") == 0);
  free(out);
  manta_value_free(list);
  bad_value(manta_double(0.0 / 0.0), "no JSON form");
  bad_value(manta_string("\xc3(", 2), "not valid UTF-8");
  manta_ref ref;
  manta_value *n = manta_int(1);
  REQUIRE_OK(manta_put(n, &ref));
  bad_value(manta_ref_value(ref), "a ref has no JSON form");
  manta_ref_release(ref);
  manta_value_free(n);
}

static manta_value *request(const char *type, const char *body) {
  manta_value *q = manta_map(), *h = manta_map();
  manta_map_put(q, "data", manta_cstring("Hello"));
  CHECK_OK(mt_serve_headers_add(h, "X-Thing", "a"));
  CHECK_OK(mt_serve_headers_add(h, "x-thing", "b"));
  if (type) {
    CHECK_OK(mt_serve_headers_add(h, "Content-Type", type));
  }
  return mt_serve_request_value("POST", "/echo/x", "/echo", q, h, body,
                                body ? strlen(body) : 0, why, sizeof why);
}

static const char *field(const manta_value *map, const char *key) {
  const manta_value *v = NULL;
  const char *s = NULL;
  size_t n;
  if (manta_map_find(map, key, &v) != MANTA_OK ||
      manta_get_string(v, &s, &n) != MANTA_OK) {
    return "";
  }
  return s;
}

static void test_request(void) {
  manta_value *r = request(NULL, "raw");
  REQUIRE(r);
  CHECK(strcmp(field(r, "method"), "POST") == 0);
  CHECK(strcmp(field(r, "path"), "/echo/x") == 0);
  CHECK(strcmp(field(r, "route"), "/echo") == 0);
  const manta_value *q, *h, *body, *json;
  CHECK_OK(manta_map_find(r, "query", &q));
  CHECK(strcmp(field(q, "data"), "Hello") == 0);
  CHECK_OK(manta_map_find(r, "headers", &h));
  CHECK(strcmp(field(h, "x-thing"), "a, b") == 0);
  CHECK_OK(manta_map_find(r, "body", &body));
  CHECK(manta_value_kind(body) == MANTA_KIND_BYTES);
  CHECK_ERR(manta_map_find(r, "json", &json), MANTA_ERR_NOT_FOUND);
  manta_value_free(r);

  r = request("application/json; charset=utf-8", "{\"n\": [1, 2]}");
  REQUIRE(r);
  CHECK_OK(manta_map_find(r, "json", &json));
  size_t len = 0;
  char *text = mt_serve_json_encode(json, &len, why, sizeof why);
  CHECK(text && strcmp(text, "{\"n\":[1,2]}") == 0);
  free(text);
  manta_value_free(r);

  /* A JSON body that is not JSON is refused with the parser's words. */
  CHECK(request("application/json", "{\"n\": [1, 2}") == NULL);
  CHECK(strstr(why, "bad JSON at line 1") != NULL);
  CHECK(request("application/problem+json", "") == NULL);
  /* A body of another type is never parsed. */
  r = request("text/plain", "{not json");
  CHECK(r != NULL);
  manta_value_free(r);
}

static void response(manta_value *v, int status, const char *type,
                     const char *body) {
  mt_serve_response r = {0};
  CHECK(mt_serve_response_from_value(v, &r));
  CHECK(r.status == status);
  CHECK(r.content_type && strcmp(r.content_type, type) == 0);
  CHECK(r.body && strstr(r.body, body) == r.body);
  if (r.status != status || !r.body || strstr(r.body, body) != r.body) {
    fprintf(stderr, "response %d %s '%s', expected %d %s '%s'\n", r.status,
            r.content_type, r.body ? r.body : "", status, type, body);
  }
  mt_serve_response_clear(&r);
  manta_value_free(v);
}

static void test_response(void) {
  const char *text = "text/plain; charset=utf-8";
  response(manta_cstring("Received data: Hello"), 200, text,
           "Received data: Hello");
  response(manta_bytes("\x01\x02", 2), 200, "application/octet-stream",
           "\x01\x02");
  manta_value *m = manta_map();
  manta_map_put(m, "count", manta_int(3));
  response(m, 200, "application/json", "{\"count\":3}");
  response(manta_int(7), 200, "application/json", "7");
  response(manta_null(), 204, text, "");
  response(manta_error(MANTA_ERR_TASK_FAILED, "boom"), 500, text,
           "500 task failed: boom\n");
  response(manta_error(MANTA_ERR_TIMEOUT, "slow"), 504, text, "504");
  response(manta_error(MANTA_ERR_ACTOR_DEAD, "gone"), 503, text, "503");
  response(manta_error(MANTA_ERR_NOT_FOUND, "no user"), 404, text, "404");
  response(manta_error(MANTA_ERR_TYPE, "wrong"), 400, text, "400");

  /* {status, headers, body}: as given. */
  m = manta_map();
  manta_value *h = manta_map();
  manta_map_put(h, "Location", manta_cstring("/x"));
  manta_map_put(h, "Content-Type", manta_cstring("text/html"));
  manta_map_put(m, "status", manta_int(302));
  manta_map_put(m, "headers", h);
  manta_map_put(m, "body", manta_cstring("<a>"));
  mt_serve_response r = {0};
  CHECK(mt_serve_response_from_value(m, &r));
  CHECK(r.status == 302 && strcmp(r.content_type, "text/html") == 0);
  CHECK(r.nheaders == 1 && strcmp(r.names[0], "Location") == 0 &&
        strcmp(r.values[0], "/x") == 0);
  mt_serve_response_clear(&r);
  manta_value_free(m);

  /* A map with other keys besides status is data, not a response. */
  m = manta_map();
  manta_map_put(m, "status", manta_int(1));
  manta_map_put(m, "other", manta_int(2));
  response(m, 200, "application/json", "{\"status\":1,\"other\":2}");

  /* Bad responses are the target's fault: 500 naming the cause. */
  m = manta_map();
  manta_map_put(m, "status", manta_int(42));
  response(m, 500, text, "500 internal error: the result's status 42");
  m = manta_map();
  h = manta_map();
  manta_map_put(h, "X-Evil", manta_cstring("a\r\nSet-Cookie: x"));
  manta_map_put(m, "status", manta_int(200));
  manta_map_put(m, "headers", h);
  response(m, 500, text, "500 internal error: the result's header 'X-Evil'");
  m = manta_map();
  manta_map_put(m, "x", manta_double(1.0 / 0.0));
  response(m, 500, text, "500 internal error: the result has no JSON form");
}

/* A deployment from YAML text: the spec, or NULL route with why. */
static manta_err spec_of(const char *yaml, mt_serve_spec *spec) {
  manta_value *v = mt_serve_yaml_decode(yaml, strlen(yaml), why, sizeof why);
  if (!v) {
    memset(spec, 0, sizeof *spec);
    return MANTA_ERR_MALFORMED;
  }
  manta_err err = mt_serve_spec_from_value(v, spec, why, sizeof why);
  manta_value_free(v);
  return err;
}

static void test_config(void) {
  mt_serve_spec s;
  CHECK_OK(spec_of("route: /counter/\nclass: Counter\nreplicas: 5\n"
                   "min_replicas: 1\nmax_replicas: 3\n"
                   "target_ongoing_requests: 4\nidempotent: true\n"
                   "timeout_ms: 250\n",
                   &s));
  CHECK(s.route && strcmp(s.route, "/counter") == 0);
  CHECK(s.cls && strcmp(s.cls, "Counter") == 0 && !s.function);
  CHECK(s.replicas == 3 && s.min_replicas == 1 && s.max_replicas == 3);
  CHECK(s.target_ongoing == 4 && s.idempotent && s.timeout_ms == 250);
  CHECK(s.max_ongoing == 100);
  mt_serve_spec_clear(&s);
  /* Every key, and the JSON the spec travels to other ingresses as
   * (mt_serve_spec_to_json) read back into the same spec. */
  CHECK_OK(spec_of("route: /full\nclass: C\nmethod: m\nreplicas: 2\n"
                   "max_ongoing_requests: 7\ntimeout_ms: 900\n"
                   "min_replicas: 1\nmax_replicas: 4\n"
                   "target_ongoing_requests: 3\nidempotent: true\n"
                   "health_check_method: ok\nhealth_check_period_ms: 50\n"
                   "health_check_timeout_ms: 70\n"
                   "resources: {CPU: 1, db_conn: 0.5}\n"
                   "args: [hello, 42, [1, 2]]\n",
                   &s));
  CHECK(s.nres == 2 && strcmp(s.res_names[1], "db_conn") == 0 &&
        s.res_qty[0] == 1.0 && s.res_qty[1] == 0.5);
  CHECK(s.health_method && strcmp(s.health_method, "ok") == 0 &&
        s.health_period_ms == 50 && s.health_timeout_ms == 70);
  size_t nargs = 0;
  CHECK(s.init_args && manta_len(s.init_args, &nargs) == MANTA_OK &&
        nargs == 3);
  char *json = mt_serve_spec_to_json(&s);
  CHECK(json != NULL);
  manta_value *jv =
      json ? mt_serve_json_decode(json, strlen(json), why, sizeof why) : NULL;
  mt_serve_spec back;
  CHECK(jv && mt_serve_spec_from_value(jv, &back, why, sizeof why) == MANTA_OK);
  if (jv) {
    char *again = mt_serve_spec_to_json(&back);
    CHECK(again && strcmp(again, json) == 0);
    free(again);
    mt_serve_spec_clear(&back);
  }
  manta_value_free(jv);
  free(json);
  mt_serve_spec_clear(&s);
  CHECK_OK(spec_of("{route: /echo, function: echo}", &s));
  CHECK(s.function && strcmp(s.function, "echo") == 0 && s.replicas == 1);
  mt_serve_spec_clear(&s);

  struct {
    const char *yaml, *cause;
  } bad[] = {
      {"route: /x\nfunction: f\nreplica: 2\n", "unknown key 'replica'"},
      {"route: /x\nfunction: f\nreplicas: 2\n", "are for class"},
      {"route: /x\nclass: C\nmin_replicas: 2\n", "needs both"},
      {"route: /x\nclass: C\nmin_replicas: 3\nmax_replicas: 2\n",
       "min_replicas <= max_replicas"},
      {"route: x\nfunction: f\n", "is not a path prefix"},
      {"route: /x\n", "needs one target"},
      {"route: /x\nfunction: f\nclass: C\n", "needs one target"},
      {"route: /x\nfunction: f\ntimeout_ms: -1\n", "'timeout_ms' must be"},
      {"route: /x\nclass: C\nidempotent: 3\n", "true or false"},
      {"route: /x\nfunction: f\nhealth_check_method: h\n",
       "health check is for class routes"},
      {"route: /x\nfunction: f\nresources: {CPU: 1}\n",
       "resources and args are for class routes"},
      {"route: /x\nclass: C\nresources: {CPU: -1}\n",
       "resource 'CPU' must be a number"},
      {"route: /x\nclass: C\nresources: [CPU]\n", "'resources' must be a map"},
      {"route: /x\nclass: C\nargs: 1\n", "'args' must be a list"},
      {"[1, 2]", "a deployment is a map"},
      {"route: [/x\n", "bad YAML at line"},
      {"a: &x 1\nb: *x\n", "anchors, aliases"},
      {"", "empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CHECK(spec_of(bad[i].yaml, &s) != MANTA_OK);
    CHECK(s.route == NULL);
    if (!strstr(why, bad[i].cause)) {
      fprintf(stderr, "'%s' gave '%s', expected '%s'\n", bad[i].yaml, why,
              bad[i].cause);
      mt_test_failures++;
    }
  }
}

int main(void) {
  REQUIRE_OK(manta_init(NULL));
  RUN_TEST(test_json);
  RUN_TEST(test_request);
  RUN_TEST(test_response);
  RUN_TEST(test_config);
  manta_shutdown();
  return mt_test_done();
}
