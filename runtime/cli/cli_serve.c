/*
 * `manta serve`: deploy, status and delete through the ingress's admin
 * routes (/-/routes), and the ingress a node runs. The client is
 * cli_http_client.c: HTTP, or HTTPS checked against the cluster's CA.
 */
#include "cli_serve.h"
#include "cli_http_client.h"

#include <manta.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLY_LIMIT (16 * 1024 * 1024)

static const char *usage =
    "usage: manta serve deploy FILE.yaml   deploy (or redeploy) the routes "
    "of a file\n"
    "       manta serve status [--json]    routes, replicas, counts\n"
    "       manta serve delete ROUTE       remove a route (its replicas "
    "drain)\n"
    "options: --http HOST:PORT   the ingress (default $MANTA_SERVE_ADDRESS "
    "or\n"
    "                            127.0.0.1:8000, the head's); https://HOST:PORT"
    "\n"
    "                            for a TLS cluster's\n"
    "         --tls-ca PATH      HTTPS, the server checked against this CA\n"
    "                            (default $MANTA_TLS_CA: a TLS cluster's "
    "ingress\n"
    "                            speaks HTTPS)\n"
    "         --token-file PATH  the cluster token (default: $MANTA_TOKEN,\n"
    "                            $MANTA_TOKEN_FILE, the state folder's "
    "token)\n"
    "A file holds one deployment, a list, or {deployments: [...]}; each:\n"
    "  route: /echo            the path prefix\n"
    "  function: echo          or class: Counter (with replicas, method)\n"
    "  replicas: 2             max_ongoing_requests: 100   timeout_ms: "
    "60000\n";

/* The cluster token as a node or driver would find it; "" if none. */
static void find_token(const char *file, char *buf, size_t size) {
  buf[0] = '\0';
  const char *env = getenv("MANTA_TOKEN");
  char path[4200];
  if (!file && env && *env) {
    snprintf(buf, size, "%s", env);
    return;
  }
  if (!file && (env = getenv("MANTA_TOKEN_FILE")) && *env) {
    file = env;
  }
  if (!file) {
    char dir[4096];
    if (manta_state_dir(dir, sizeof dir, NULL) != MANTA_OK) {
      return;
    }
    snprintf(path, sizeof path, "%s/token", dir);
    if (access(path, F_OK) != 0) {
      return;
    }
    file = path;
  }
  manta_value *why = NULL;
  if (manta_token_from_file(file, buf, size, &why) != MANTA_OK) {
    fprintf(stderr, "manta: token file %s: %s\n", file,
            why ? manta_error_message(why) : "unreadable");
    buf[0] = '\0';
  }
  manta_value_free(why);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "manta: cannot read %s: %s\n", path, strerror(errno));
    return NULL;
  }
  char *buf = NULL;
  size_t cap = 0;
  *len = 0;
  for (;;) {
    if (*len + 4096 > cap) {
      cap = cap ? 2 * cap : 8192;
      char *b = cap <= REPLY_LIMIT ? realloc(buf, cap) : NULL;
      if (!b) {
        fprintf(stderr, "manta: %s is too large for a deployment file\n", path);
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = b;
    }
    size_t r = fread(buf + *len, 1, cap - *len, f);
    *len += r;
    if (r == 0) {
      break;
    }
  }
  fclose(f);
  return buf;
}

static long long num(json_t *o, const char *key) {
  return (long long)json_integer_value(json_object_get(o, key));
}

static void print_status(const char *text) {
  json_error_t err;
  json_t *routes = json_loads(text, 0, &err);
  if (!json_is_array(routes)) {
    fputs(text, stdout);
    json_decref(routes);
    return;
  }
  if (json_array_size(routes) == 0) {
    printf("no routes\n");
  }
  size_t i;
  json_t *r;
  json_array_foreach(routes, i, r) {
    const char *cls = json_string_value(json_object_get(r, "class"));
    const char *fn = json_string_value(json_object_get(r, "function"));
    printf("%s -> %s %s  version %lld  in flight %lld  handled %lld  "
           "errors %lld  rejected %lld%s\n",
           json_string_value(json_object_get(r, "route")),
           cls ? "class" : "function",
           cls  ? cls
           : fn ? fn
                : "?",
           num(r, "version"), num(r, "in_flight"), num(r, "handled"),
           num(r, "errors"), num(r, "rejected"),
           num(r, "draining") ? "  (an old version draining)" : "");
    size_t j;
    json_t *rep;
    json_array_foreach(json_object_get(r, "replicas"), j, rep) {
      const char *node = json_string_value(json_object_get(rep, "node"));
      printf("  replica %lld%s%s  in flight %lld  handled %lld  errors %lld\n",
             num(rep, "replica"), node ? "  node " : "", node ? node : "",
             num(rep, "in_flight"), num(rep, "handled"), num(rep, "errors"));
    }
  }
  json_decref(routes);
}

int cli_serve_main(int argc, char **argv) {
  const char *http = getenv("MANTA_SERVE_ADDRESS");
  const char *token_file = NULL;
  const char *ca = getenv("MANTA_TLS_CA");
  const char *cmd = NULL, *arg = NULL;
  bool json = false;
  char default_http[64];
  snprintf(default_http, sizeof default_http, "127.0.0.1:%d",
           CLI_SERVE_DEFAULT_PORT);
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(argv[i], "--http") == 0 && i + 1 < argc) {
      http = argv[++i];
    } else if (strcmp(argv[i], "--tls-ca") == 0 && i + 1 < argc) {
      ca = argv[++i];
    } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
      token_file = argv[++i];
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      fprintf(stderr, "manta: unknown serve option %s\n%s", argv[i], usage);
      return 2;
    } else if (!cmd) {
      cmd = argv[i];
    } else if (!arg) {
      arg = argv[i];
    } else {
      fprintf(stderr, "manta: serve: one argument too many: %s\n", argv[i]);
      return 2;
    }
  }
  if (!http || !*http) {
    http = default_http;
  }
  if (ca && !*ca) {
    ca = NULL;
  }
  /* https:// asks for TLS (then a CA is needed), http:// for clear
   * text; a bare HOST:PORT speaks TLS exactly when a CA is known, as in a
   * TLS cluster. */
  bool https = strncmp(http, "https://", 8) == 0;
  if (strncmp(http, "http://", 7) == 0) {
    http += 7;
    ca = NULL;
  } else if (https) {
    http += 8;
  }
  if (https && !ca) {
    fprintf(stderr, "manta: serve: an https:// ingress needs the CA of its "
                    "certificate: give --tls-ca PATH or MANTA_TLS_CA\n");
    return 2;
  }
  bool deploy = cmd && strcmp(cmd, "deploy") == 0;
  bool status = cmd && strcmp(cmd, "status") == 0;
  bool del = cmd && strcmp(cmd, "delete") == 0;
  if (!(deploy || status || del) || (status == (arg != NULL))) {
    fputs(usage, stderr);
    return 2;
  }
  char token[4200];
  find_token(token_file, token, sizeof token);
  char why[512], path[600], *reply = NULL, *body = NULL;
  size_t len = 0;
  int code;
  if (deploy) {
    if (!(body = read_file(arg, &len))) {
      return 1;
    }
    code =
        cli_http_call(http, ca, "PUT", "/-/routes", token, "application/yaml",
                      body, len, &reply, why, sizeof why);
  } else if (status) {
    code = cli_http_call(http, ca, "GET", "/-/routes", token, NULL, NULL, 0,
                         &reply, why, sizeof why);
  } else {
    if (arg[0] != '/' || strpbrk(arg, " ?#\r\n")) {
      fprintf(stderr,
              "manta: serve delete takes a route like /echo, not "
              "'%s'\n",
              arg);
      return 2;
    }
    snprintf(path, sizeof path, "/-/routes%s", arg);
    code = cli_http_call(http, ca, "DELETE", path, token, NULL, NULL, 0, &reply,
                         why, sizeof why);
  }
  free(body);
  if (code < 0) {
    fprintf(stderr, "manta: %s\n", why);
    return 1;
  }
  int rc = code == 200 ? 0 : 1;
  if (rc) {
    fprintf(stderr, "manta: serve %s: %s", cmd, reply);
  } else if (status && !json) {
    print_status(reply);
  } else {
    fputs(reply, stdout);
    if (!*reply || reply[strlen(reply) - 1] != '\n') {
      putchar('\n');
    }
  }
  free(reply);
  return rc;
}

int cli_serve_parse_port(const char *value) {
  if (strcmp(value, "off") == 0) {
    return CLI_SERVE_PORT_OFF;
  }
  char *end;
  long p = strtol(value, &end, 10);
  if (end == value || *end || p < 0 || p > 65535) {
    fprintf(stderr,
            "manta: --http-port takes a port number (0 to 65535, 0: any "
            "free port) or 'off', not '%s'\n",
            value);
    exit(2);
  }
  return (int)p;
}

bool cli_serve_node_start(bool head, int http_port, const char *bind_host,
                          const char *token, bool tls, char *out, size_t size,
                          char *why, size_t why_size) {
  out[0] = '\0';
  if (http_port == CLI_SERVE_PORT_OFF ||
      (http_port == CLI_SERVE_PORT_UNSET && !head)) {
    return true;
  }
  bool asked = http_port != CLI_SERVE_PORT_UNSET;
  int port = asked ? http_port : CLI_SERVE_DEFAULT_PORT;
  char found[4200];
  if (!token) {
    find_token(NULL, found, sizeof found);
    token = found;
  }
  manta_serve_options *o = NULL;
  manta_err err = manta_serve_options_new(&o);
  if (!err) {
    err = manta_serve_options_set_host(o, bind_host);
  }
  if (!err) {
    err = manta_serve_options_set_port(o, port);
  }
  if (!err) {
    err = manta_serve_options_set_token(o, token);
  }
  if (!err) {
    err = manta_serve_start(o);
  }
  manta_serve_options_free(o);
  if (err != MANTA_OK) {
    snprintf(why, why_size,
             "cannot serve HTTP routes on %s:%d: %s (see the log above)",
             bind_host, port, manta_strerror(err));
    if (!asked) {
      /* The default port of the head: another program may hold it. */
      fprintf(stderr,
              "manta: warning: %s; the head serves no routes (give "
              "--http-port)\n",
              why);
      return true;
    }
    return false;
  }
  int served = port;
  manta_serve_port(&served);
  snprintf(out, size, " serve %s://%s:%d", tls ? "https" : "http", bind_host,
           served);
  return true;
}
