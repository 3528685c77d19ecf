/*
 * The manta command: start and stop nodes, and show a cluster's state.
 *
 *   manta start --head [options]             start a cluster (head node)
 *   manta start --address HOST:PORT [opts]   start a node that joins one
 *   manta status [--address HOST:PORT] [--json] [--tls-* PATH]
 *   manta stop
 *
 * A started node runs in the background (or with --foreground, in this
 * process); its pid, address and log live in the state directory
 * ($MANTA_STATE_DIR, default /tmp/manta-<uid>), which is how `stop` and
 * `status` find the nodes of this machine. Uses only manta.h.
 */
#include <manta.h>

#include "cli_java.h"
#include "cli_logs.h"
#include "cli_pidfile.h"
#include "cli_progress.h"
#include "cli_serve.h"
#include "cli_timeline.h"
#include "size.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT 6390
#define MAX_MODULES 32

static const char *usage_text =
    "usage:\n"
    "  manta start --head [--port P] [options]   start a cluster: its head "
    "node\n"
    "  manta start --address HOST:PORT [options] start a node joining a "
    "cluster\n"
    "                                            (HOST:PORT,HOST2:PORT2: "
    "heads tried in turn)\n"
    "  manta status [--address HOST:PORT] [--json] [--watch [S]] "
    "[--count N]\n"
    "               [--token-file PATH | --token T]\n"
    "               [--tls-cert PATH --tls-key PATH] [--tls-ca PATH]\n"
    "                                            every node: address, "
    "resources,\n"
    "                                            functions, actors, tasks,\n"
    "                                            named actors, placement "
    "groups\n"
    "  manta serve deploy FILE | status | delete ROUTE\n"
    "                                            HTTP routes to functions and "
    "actors\n"
    "                                            (manta serve --help)\n"
    "  manta stop                                stop the nodes started on "
    "this\n"
    "                                            machine (nodes, then the "
    "head)\n"
    "  manta timeline [-o FILE] [--address HOST:PORT] [--token-file PATH]\n"
    "                                            recent tasks and actor calls "
    "as a\n"
    "                                            Chrome trace "
    "(MANTA_TIMELINE)\n"
    "  manta logs [NODE] [-f] [--bytes N] [--address HOST:PORT]\n"
    "                                            a node's log (the head's "
    "if no\n"
    "                                            NODE); -f follows it\n"
    "  manta --version | --help\n"
    "\n"
    "start options:\n"
    "  --port P              port to serve on (head default 6390, nodes: any "
    "free)\n"
    "  --bind HOST           address to bind (default 127.0.0.1); another "
    "than\n"
    "                        loopback (a name counts as loopback only if "
    "every\n"
    "                        address it resolves to is) needs a token given "
    "on\n"
    "                        purpose (not the state folder's) and TLS, or "
    "--insecure\n"
    "  --tls-cert PATH       this node's TLS certificate (PEM; it must name "
    "\"manta\")\n"
    "  --tls-key PATH        its private key (PEM, mode 0600: refused if "
    "others may\n"
    "                        read it)\n"
    "  --tls-ca PATH         the CA of the cluster's certificates: servers "
    "demand\n"
    "                        client certificates it signed (mutual TLS), "
    "clients\n"
    "                        check servers against it. With TLS every link "
    "is\n"
    "                        encrypted: give the same to every node, and "
    "to status.\n"
    "                        scripts/tls-generate.sh DIR makes a CA and a "
    "node\n"
    "                        certificate (docs/security.md)\n"
    "  --insecure            allow a bind beyond loopback without TLS: calls "
    "and the\n"
    "                        token cross the network in clear text (warned "
    "at start)\n"
    "  --token-file PATH     the cluster token, required on every call, read "
    "from a\n"
    "                        file only its owner may read (chmod 600)\n"
    "  --token T             the same, given on the command line: other "
    "users see it\n"
    "                        there (ps), so it is warned about\n"
    "  Every cluster has a token. Without one a head makes one (32 random "
    "bytes,\n"
    "  hex) in the state folder's file `token`, mode 0600; nodes, drivers and\n"
    "  `manta status` of the same user find it there. Order: --token-file or\n"
    "  --token, $MANTA_TOKEN, the file $MANTA_TOKEN_FILE, the state folder.\n"
    "  --metrics-port N      serve Prometheus metrics at "
    "http://HOST:N/metrics\n"
    "                        (default 0: any free port, printed at start; "
    "off:\n"
    "                        none); HOST is --bind's, and beyond loopback "
    "every\n"
    "                        request needs the token (Authorization: "
    "Bearer)\n"
    "  --http-port N         serve HTTP routes (manta serve) on HOST:N; the "
    "head\n"
    "                        does on 8000 by default, other nodes only when "
    "given;\n"
    "                        off: none (docs/serve.md)\n"
    "  --num-cpus N          CPU slots (default: the machine's cores)\n"
    "  --resources a=1,b=2   custom resources\n"
    "  --object-store-memory BYTES\n"
    "                        object data kept in memory (2GiB, 512MB, 0: no "
    "limit;\n"
    "                        default 30% of the memory available at start); "
    "beyond\n"
    "                        it objects no one reads are spilled to disk\n"
    "  --spill-dir DIR       where spilled objects go (default: the state "
    "folder)\n"
    "  --store URL           head only: keep the head's state (nodes, named "
    "actors,\n"
    "                        placement groups) in Redis at "
    "redis://host:port[/db];\n"
    "                        a head started again on it resumes "
    "(docs/head-store.md)\n"
    "  --cluster-name NAME   the store's key prefix (default \"default\"), "
    "so that\n"
    "                        clusters can share one Redis\n"
    "  --store-password-file PATH\n"
    "                        the store's password, in a file only its owner "
    "may read\n"
    "                        (or MANTA_STORE_PASSWORD_FILE, "
    "MANTA_STORE_PASSWORD)\n"
    "  --module PATH         load a module (repeatable): a shared library "
    "whose\n"
    "                        manta_module_init registers functions and "
    "classes\n"
    "  --foreground          run in this process until SIGINT/SIGTERM\n"
    "\n"
    "Java in the node (a JVM started inside it, before it joins):\n"
    "  --classpath CP        the application's jars and class folders, "
    "separated\n"
    "                        by ':'; manta.jar is added\n"
    "  --java-module CLASS   load a Java module (repeatable): a class "
    "implementing\n"
    "                        manta.Module that registers functions and "
    "classes\n"
    "  --java-option OPT     a JVM option, e.g. -Xmx2g (repeatable)\n"
    "  The Java binding is found beside this program (installed or built);\n"
    "  MANTA_JNI_LIBRARY and MANTA_JAR name libmanta_jni.so and manta.jar\n"
    "  instead.\n"
    "\n"
    "status options: --address HOST:PORT, --json, --token-file PATH, --token "
    "T,\n"
    "  --tls-cert PATH, --tls-key PATH, --tls-ca PATH (as for start; a CA "
    "alone\n"
    "  reaches a head that demands no client certificate),\n"
    "  --watch [S]: a snapshot every S seconds (default 1, 0.1 to 3600),\n"
    "  redrawn in place on a terminal, one after another under a dated line\n"
    "  otherwise, until Ctrl-C or --count N snapshots\n"
    "\n"
    "environment: MANTA_STATE_DIR (default /tmp/manta-<uid>; it must be a "
    "folder of\n"
    "this user that no one else may write in: it is refused otherwise), "
    "MANTA_ADDRESS,\n"
    "MANTA_TOKEN, MANTA_TOKEN_FILE, MANTA_TLS_CERT, MANTA_TLS_KEY, "
    "MANTA_TLS_CA,\n"
    "MANTA_INSECURE=1, MANTA_LOG (error, warn, info, debug),\n"
    "MANTA_OBJECT_STORE_MEMORY, MANTA_SPILL_DIR, "
    "MANTA_OBJECT_STORE_FULL_TIMEOUT_MS.\n"
    "`manta stop` signals only processes it checks are the nodes that wrote "
    "their\n"
    "pid files (same user, same start time, the manta program); it removes "
    "stale ones.\n";

static void die(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("manta: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(code);
}

/* The state folder, checked by the library's rule (manta_state_dir): one
 * that another user could have planted files in is refused, not used. */
static void state_dir(char *buf, size_t size) {
  manta_value *why = NULL;
  if (manta_state_dir(buf, size, &why) != MANTA_OK) {
    die(1, "%s", why ? manta_error_message(why) : "no state folder");
  }
}

/*
 * A token given on the command line: every local user reads it in
 * /proc/PID/cmdline while the process lives. It is copied and blanked in
 * argv (which /proc shows), but it was visible until then: warned.
 */
/* The token given to this command; a global, so it is never a leak. */
static char *given_token;

static const char *token_from_argv(char *value) {
  fputs("manta: warning: --token is visible to other users of this machine "
        "(ps, /proc/PID/cmdline); prefer --token-file or MANTA_TOKEN\n",
        stderr);
  free(given_token);
  if (!(given_token = strdup(value))) {
    die(1, "out of memory");
  }
  memset(value, 'x', strlen(value));
  return given_token;
}

/* The token in a file given with --token-file, checked (0600) and read. */
static const char *token_from_file(const char *path) {
  char buf[4100];
  manta_value *why = NULL;
  if (manta_token_from_file(path, buf, sizeof buf, &why) != MANTA_OK) {
    die(2, "--token-file: %s", why ? manta_error_message(why) : path);
  }
  free(given_token);
  given_token = strdup(buf);
  memset(buf, 0, sizeof buf);
  if (!given_token) {
    die(1, "out of memory");
  }
  return given_token;
}

/* The TLS files of --tls-cert, --tls-key and --tls-ca (NULL: not given;
 * then MANTA_TLS_* decide, in the library). */
typedef struct tls_args {
  const char *cert, *key, *ca;
} tls_args;

/* Takes --tls-cert/--tls-key/--tls-ca with its value v; false if f is
 * none of them. */
static bool tls_flag(const char *f, const char *v, tls_args *t) {
  const char **slot = strcmp(f, "--tls-cert") == 0  ? &t->cert
                      : strcmp(f, "--tls-key") == 0 ? &t->key
                      : strcmp(f, "--tls-ca") == 0  ? &t->ca
                                                    : NULL;
  if (slot) {
    *slot = v;
  }
  return slot != NULL;
}

/* Reads and checks the files into o (the library's rules: a key file
 * others may read is refused); dies saying why. */
static void tls_options(manta_options *o, const tls_args *t) {
  if ((t->cert || t->key || t->ca) &&
      manta_options_set_tls(o, t->cert, t->key, t->ca) != MANTA_OK) {
    die(2, "bad --tls-cert/--tls-key/--tls-ca (see the line above)");
  }
}

/* ---- start ------------------------------------------------------------------
 */

typedef struct start_args {
  int head;
  const char *address;
  int port;
  int metrics_port; /* -1: off */
  int http_port;    /* Serve's ingress (cli_serve.h) */
  const char *bind;
  const char *token;
  tls_args tls;
  int insecure;
  double num_cpus;
  int64_t store_memory; /* < 0: not given */
  const char *spill_dir;
  const char *store;        /* the head's durable store (head-store.md) */
  const char *cluster_name; /* its key prefix */
  const char *resources;
  const char *modules[MAX_MODULES];
  int nmodules;
  int foreground;
  cli_java_args java;
  char *jni_library; /* libmanta_jni, loaded after the modules; or NULL */
} start_args;

static double parse_number(const char *flag, const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || v < 0) {
    die(2, "%s takes a number >= 0, not '%s'", flag, s);
  }
  return v;
}

/* HOST:PORT with a port from 1 to 65535, or a list of them (h1:p1,h2:p2:
 * the heads a node tries in turn, docs/head-store.md), checked before
 * anything starts: gRPC would otherwise fail later with a message about
 * something else. */
static void check_address(const char *flag, const char *address) {
  for (const char *p = address;;) {
    const char *comma = strchr(p, ',');
    int len = comma ? (int)(comma - p) : (int)strlen(p);
    if (len == 0) {
      die(2, "%s '%s': an empty element in the list", flag, address);
    }
    char one[300];
    snprintf(one, sizeof one, "%.*s", len, p);
    const char *colon = strrchr(one, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == one) {
      die(2, "%s takes HOST:PORT, not '%s'", flag, one);
    }
    if (!colon[1] || *end || colon[1] == '-' || colon[1] == '+' || port < 1 ||
        port > 65535) {
      die(2, "%s %s: the port must be a number from 1 to 65535", flag, one);
    }
    if (!comma) {
      return;
    }
    p = comma + 1;
  }
}

static void parse_start(int argc, char **argv, start_args *a) {
  memset(a, 0, sizeof *a);
  a->num_cpus = -1;
  a->store_memory = -1;
  a->port = -1;
  a->metrics_port = 0;
  a->http_port = CLI_SERVE_PORT_UNSET;
  for (int i = 0; i < argc; i++) {
    const char *f = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1;
    if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
      fputs(usage_text, stdout);
      exit(0);
    } else if (strcmp(f, "--head") == 0) {
      a->head = 1;
      takes = 0;
    } else if (strcmp(f, "--foreground") == 0) {
      a->foreground = 1;
      takes = 0;
    } else if (strcmp(f, "--insecure") == 0) {
      a->insecure = 1;
      takes = 0;
    } else if (!v) {
      die(2, "unknown option or missing value: %s (see manta --help)", f);
    } else if (strcmp(f, "--address") == 0) {
      a->address = v;
    } else if (strcmp(f, "--port") == 0) {
      double p = parse_number(f, v);
      if (p > 65535 || p != (int)p) {
        die(2, "--port takes a port number, not '%s'", v);
      }
      a->port = (int)p;
    } else if (strcmp(f, "--metrics-port") == 0) {
      if (strcmp(v, "off") == 0) {
        a->metrics_port = -1;
      } else {
        char *end;
        long p = strtol(v, &end, 10);
        if (end == v || *end || p < 0 || p > 65535) {
          die(2,
              "--metrics-port takes a port number (0 to 65535, 0: any free "
              "port) or 'off', not '%s'",
              v);
        }
        a->metrics_port = (int)p;
      }
    } else if (strcmp(f, "--http-port") == 0) {
      a->http_port = cli_serve_parse_port(v);
    } else if (strcmp(f, "--bind") == 0) {
      a->bind = v;
    } else if (strcmp(f, "--token") == 0) {
      a->token = token_from_argv(argv[i + 1]);
    } else if (strcmp(f, "--token-file") == 0) {
      a->token = token_from_file(v);
    } else if (tls_flag(f, v, &a->tls)) {
      /* taken */
    } else if (strcmp(f, "--num-cpus") == 0) {
      a->num_cpus = parse_number(f, v);
    } else if (strcmp(f, "--object-store-memory") == 0) {
      uint64_t bytes;
      if (mt_parse_size(v, &bytes) != 0) {
        die(2,
            "--object-store-memory takes a size like 2GiB, 512MB or 0 "
            "(no limit), not '%s'",
            v);
      }
      a->store_memory = (int64_t)bytes;
    } else if (strcmp(f, "--store") == 0) {
      a->store = v;
    } else if (strcmp(f, "--cluster-name") == 0) {
      a->cluster_name = v;
    } else if (strcmp(f, "--store-password-file") == 0) {
      /* Read by the runtime from the environment, like a token file: the
       * password itself never is on a command line. */
      if (v) {
        setenv("MANTA_STORE_PASSWORD_FILE", v, 1);
      }
    } else if (strcmp(f, "--spill-dir") == 0) {
      a->spill_dir = v;
    } else if (strcmp(f, "--resources") == 0) {
      a->resources = v;
    } else if (strcmp(f, "--module") == 0) {
      if (a->nmodules == MAX_MODULES) {
        die(2, "at most %d modules", MAX_MODULES);
      }
      a->modules[a->nmodules++] = v;
    } else if (strcmp(f, "--classpath") == 0) {
      a->java.classpath = v;
    } else if (strcmp(f, "--java-module") == 0) {
      if (a->java.nmodules == CLI_JAVA_MAX) {
        die(2, "at most %d Java modules", CLI_JAVA_MAX);
      }
      a->java.modules[a->java.nmodules++] = v;
    } else if (strcmp(f, "--java-option") == 0) {
      if (a->java.noptions == CLI_JAVA_MAX) {
        die(2, "at most %d JVM options", CLI_JAVA_MAX);
      }
      a->java.options[a->java.noptions++] = v;
    } else {
      die(2, "unknown option %s (see manta --help)", f);
    }
    i += takes;
  }
  if (a->head == (a->address != NULL)) {
    die(2, "start needs exactly one of --head or --address HOST:PORT");
  }
  if (a->address) {
    check_address("--address", a->address);
  }
  if ((a->store || a->cluster_name) && !a->head) {
    die(2, "--store and --cluster-name are for the head (start --head)");
  }
  if (a->store && strncmp(a->store, "redis://", 8) != 0) {
    die(2,
        "--store takes redis://host:port[/db], not '%s' (docs/head-store.md)",
        a->store);
  }
}

static manta_options *start_options(const start_args *a) {
  manta_options *o;
  if (manta_options_new(&o) != MANTA_OK) {
    die(1, "out of memory");
  }
  manta_options_set_role(o, a->head ? MANTA_ROLE_HEAD : MANTA_ROLE_NODE);
  if (a->address) {
    manta_options_set_address(o, a->address);
  }
  char bind[300];
  int port = a->port >= 0 ? a->port : a->head ? DEFAULT_PORT : 0;
  snprintf(bind, sizeof bind, "%s:%d", a->bind ? a->bind : "127.0.0.1", port);
  if (manta_options_set_bind(o, bind) != MANTA_OK) {
    die(2, "bad --bind %s", bind);
  }
  manta_options_set_metrics_port(o, a->metrics_port);
  if (a->token && manta_options_set_token(o, a->token) != MANTA_OK) {
    die(2, "bad token (see the line above)");
  }
  tls_options(o, &a->tls);
  if (a->insecure) {
    manta_options_set_insecure(o, 1);
  }
  if (a->num_cpus >= 0) {
    manta_options_set_num_cpus(o, a->num_cpus);
  }
  if (a->store_memory >= 0) {
    manta_options_set_object_store_memory(o, (uint64_t)a->store_memory);
  }
  if ((a->store || a->cluster_name) &&
      manta_options_set_head_store(o, a->store, a->cluster_name) != MANTA_OK) {
    die(2, "bad --store or --cluster-name");
  }
  if (a->spill_dir &&
      manta_options_set_spill_dir(o, a->spill_dir) != MANTA_OK) {
    die(2, "bad --spill-dir '%s'", a->spill_dir);
  }
  /* Loaded before joining: the node's first registration offers them. */
  for (int i = 0; i < a->nmodules; i++) {
    manta_options_add_module(o, a->modules[i]);
  }
  if (a->jni_library) {
    manta_options_add_module(o, a->jni_library);
  }
  if (a->resources) {
    char *list = strdup(a->resources), *save = NULL;
    for (char *item = strtok_r(list, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(item, '=');
      if (!eq || eq == item) {
        die(2, "--resources takes name=qty,...; '%s' is not", item);
      }
      *eq = '\0';
      manta_err err = manta_options_set_resource(
          o, item, parse_number("--resources", eq + 1));
      if (err != MANTA_OK) {
        die(2, "resource %s: %s", item, manta_strerror(err));
      }
    }
    free(list);
  }
  return o;
}

/*
 * The error lines ("manta[PID] error: ...") of a failed daemon's log, joined
 * by "; " into buf; false if there are none.
 */
static bool log_errors(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  size_t used = 0;
  buf[0] = '\0';
  if (!f) {
    return false;
  }
  char text[1024];
  while (fgets(text, sizeof text, f)) {
    const char *e = strstr(text, "] error: ");
    if (strncmp(text, "manta[", 6) != 0 || !e) {
      continue;
    }
    e += strlen("] error: ");
    int n = snprintf(buf + used, size - used, "%s%.*s", used ? "; " : "",
                     (int)strcspn(e, "\n"), e);
    if (n < 0 || (size_t)n >= size - used) {
      break;
    }
    used += (size_t)n;
  }
  fclose(f);
  return used > 0;
}

static const char *local_head(char *buf, size_t size, int *pid);

/* For a head that did not start: the head this state folder knows of, if
 * one runs (its port is taken), as "; a head started here ...". */
static const char *running_head_hint(const start_args *a, char *buf,
                                     size_t size) {
  char address[128];
  int pid = 0;
  buf[0] = '\0';
  if (a->head && local_head(address, sizeof address, &pid)) {
    snprintf(buf, size,
             "; a head started on this machine already runs at %s (pid %d): "
             "`manta stop` stops it, --port starts another",
             address, pid);
  }
  return buf;
}

static volatile sig_atomic_t stop_requested;
/* Posted by the handler: SIGTERM may be delivered to any of the runtime's
 * threads, and pause() in the main thread would not return then (a node
 * signalled that way never stopped), while a semaphore wakes it from any
 * thread; sem_post is async-signal-safe. */
static sem_t stop_posted;
static void on_stop_signal(int sig) {
  (void)sig;
  stop_requested = 1;
  sem_post(&stop_posted);
}

/*
 * Runs the node in this process: init, modules, then wait for a signal.
 * ready_fd (or -1) gets one line: "ok ADDRESS" or "error MESSAGE".
 */
static int run_node(const start_args *a, int ready_fd) {
  char dir[4096], pidfile[4200], hint[300];
  state_dir(dir, sizeof dir);
  /* Before a JVM starts in this process (--classpath): it takes SIGPIPE
   * over, and -Xcheck:jni reports a handler changed behind its back. */
  signal(SIGPIPE, SIG_IGN);
  manta_options *o = start_options(a);
  manta_err err = manta_init(o);
  manta_options_free(o);
  char line[600] = "";
  if (err != MANTA_OK) {
    snprintf(line, sizeof line, "error cannot start: %s%s", manta_strerror(err),
             a->jni_library ? " (lines from manta_jni say what failed in Java)"
                            : "");
  }
  char address[128] = "", metrics[200] = "", serve[300] = "";
  int mport;
  if (!line[0]) {
    manta_node_address(address, sizeof address);
    if (manta_metrics_port(&mport) == MANTA_OK) {
      /* The metrics live on the node's host (its bind), another port. */
      /* HTTPS when the node has TLS (flags or MANTA_TLS_CERT). */
      bool tls = a->tls.cert || getenv("MANTA_TLS_CERT");
      snprintf(
          metrics, sizeof metrics, " metrics %s://%.*s:%d/metrics",
          tls ? "https" : "http",
          (int)(strrchr(address, ':') ? strrchr(address, ':') - address : 0),
          address, mport);
    }
    char why[400];
    if (cli_serve_node_start(a->head, a->http_port,
                             a->bind ? a->bind : "127.0.0.1", a->token,
                             a->tls.cert || getenv("MANTA_TLS_CERT"), serve,
                             sizeof serve, why, sizeof why)) {
      snprintf(line, sizeof line, "ok %s%s%s", address, metrics, serve);
    } else {
      snprintf(line, sizeof line, "error %s", why);
    }
  }
  if (line[0] == 'e') {
    if (manta_is_initialized()) {
      manta_shutdown();
    }
    if (ready_fd >= 0) {
      dprintf(ready_fd, "%s\n", line);
    } else {
      fprintf(stderr, "manta: %s (the errors above say why)%s\n", line + 6,
              running_head_hint(a, hint, sizeof hint));
    }
    return 1;
  }
  /* The state file: how stop and status find this node. */
  snprintf(pidfile, sizeof pidfile, "%s/%s-%d", dir, a->head ? "head" : "node",
           (int)getpid());
  if (!cli_pidfile_write(pidfile, address)) {
    fprintf(stderr,
            "manta: cannot write %s: %s (manta stop will not see "
            "this node)\n",
            pidfile, strerror(errno));
  }
  sem_init(&stop_posted, 0, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  if (ready_fd >= 0) {
    dprintf(ready_fd, "%s\n", line);
    close(ready_fd);
  } else {
    printf("manta: %s ready at %s (pid %d)%s%s\n", a->head ? "head" : "node",
           address, (int)getpid(), metrics, serve);
    fflush(stdout);
  }
  while (!stop_requested) {
    sem_wait(&stop_posted); /* EINTR: checked again */
  }
  manta_shutdown();
  unlink(pidfile);
  return 0;
}

static int cmd_start(int argc, char **argv) {
  start_args a;
  parse_start(argc, argv, &a);
  if (cli_java_wanted(&a.java)) {
    /* Here, before a daemon forks: a missing binding is said at once. */
    char why[1024];
    a.jni_library = cli_java_prepare(&a.java, why, sizeof why);
    if (!a.jni_library) {
      die(2, "%s", why);
    }
  }
  /* Checked here, before a daemon forks: a bad TLS file is said on this
   * terminal, not in the daemon's log. */
  manta_options_free(start_options(&a));
  if (a.foreground) {
    int rc = run_node(&a, -1);
    free(a.jni_library);
    return rc;
  }
  char dir[4096];
  state_dir(dir, sizeof dir);
  int fds[2];
  if (pipe(fds) != 0) {
    die(1, "pipe: %s", strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) {
    die(1, "fork: %s", strerror(errno));
  }
  if (pid == 0) {
    /* The daemon: own session, log to the state directory. */
    close(fds[0]);
    setsid();
    char log[4200];
    snprintf(log, sizeof log, "%s/%s-%d.log", dir, a.head ? "head" : "node",
             (int)getpid());
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int devnull = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (devnull >= 0) {
      dup2(devnull, 0);
      close(devnull);
    }
    _exit(run_node(&a, fds[1]));
  }
  close(fds[1]);
  free(a.jni_library);
  char line[700] = "";
  ssize_t n = 0, got;
  while (n < (ssize_t)sizeof line - 1 &&
         (got = read(fds[0], line + n, sizeof line - 1 - (size_t)n)) > 0) {
    n += got;
    if (memchr(line, '\n', (size_t)n)) {
      break;
    }
  }
  close(fds[0]);
  line[n] = '\0';
  line[strcspn(line, "\n")] = '\0';
  if (strncmp(line, "ok ", 3) != 0) {
    int status;
    waitpid(pid, &status, 0);
    char log[4200], errors[2048], hint[300];
    snprintf(log, sizeof log, "%s/%s-%d.log", dir, a.head ? "head" : "node",
             (int)pid);
    /* The daemon's log holds the cause; the user is at this terminal. */
    if (!log_errors(log, errors, sizeof errors)) {
      snprintf(errors, sizeof errors, "%s", line[0] ? line + 6 : "it exited");
    }
    die(1, "the %s did not start: %s%s (log: %s)", a.head ? "head" : "node",
        errors, running_head_hint(&a, hint, sizeof hint), log);
  }
  /* "ok ADDRESS[ metrics URL]" */
  char *metrics = strchr(line + 3, ' ');
  if (metrics) {
    *metrics++ = '\0';
  }
  printf("manta: %s started at %s (pid %d, log %s/%s-%d.log)\n",
         a.head ? "head" : "node", line + 3, (int)pid, dir,
         a.head ? "head" : "node", (int)pid);
  if (metrics) {
    printf("  %s\n", metrics); /* "metrics http://HOST:PORT/metrics" */
  }
  if (a.head) {
    printf("  join it:   manta start --address %s\n"
           "  drivers:   MANTA_ADDRESS=%s ./your_program\n"
           "  status:    manta status\n",
           line + 3, line + 3);
  }
  return 0;
}

/* ---- stop -------------------------------------------------------------------
 */

/*
 * Reads the pid file at path: true if its node runs (cli_pidfile_check).
 * A stale file (its node gone, or the pid now another process's) is
 * removed, saying so, when remove is set; it is never signalled.
 */
static bool live_node(const char *path, cli_pidfile *node, bool remove) {
  char why[300];
  if (cli_pidfile_check(path, node, why, sizeof why)) {
    return true;
  }
  if (remove) {
    unlink(path);
    printf("manta: removed the stale state file %s: %s\n", path, why);
  }
  return false;
}

/* A node to stop: its pid file and what it says. */
typedef struct stop_target {
  char path[4400];
  cli_pidfile node;
  bool gone;
} stop_target;

/* The live nodes whose state files start with prefix, appended to *list
 * (stale files are removed, saying so); false when memory ran out. */
static bool find_kind(const char *dir, const char *prefix, stop_target **list,
                      size_t *n) {
  DIR *d = opendir(dir);
  if (!d) {
    return true;
  }
  bool ok = true;
  struct dirent *e;
  size_t plen = strlen(prefix);
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, prefix, plen) != 0 || strchr(e->d_name, '.')) {
      continue;
    }
    stop_target t = {0};
    snprintf(t.path, sizeof t.path, "%s/%s", dir, e->d_name);
    if (!live_node(t.path, &t.node, true)) {
      continue;
    }
    stop_target *grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown) {
      ok = false;
      break;
    }
    *list = grown;
    (*list)[(*n)++] = t;
  }
  closedir(d);
  return ok;
}

/*
 * Stops targets together: SIGTERM to each, then up to 10 s for all of them
 * to leave cleanly (not 10 s each: a cluster of many nodes stops in the
 * time of its slowest), then SIGKILL to those still there. kind names them
 * in the lines printed; the bar counts from *stopped.
 */
static void stop_together(stop_target *t, size_t n, const char *kind,
                          cli_progress *bar, size_t *stopped) {
  for (size_t i = 0; i < n; i++) {
    kill(t[i].node.pid, SIGTERM);
  }
  size_t left = n;
  for (int step = 0; step < 200 && left > 0; step++) {
    for (size_t i = 0; i < n; i++) {
      if (!t[i].gone && !cli_pid_running(t[i].node.pid)) {
        t[i].gone = true;
        left--;
        unlink(t[i].path);
        cli_progress_set(bar, ++*stopped);
        cli_progress_say(bar, "manta: stopped %s %d (%s)\n", kind,
                         t[i].node.pid, t[i].node.address);
      }
    }
    if (left > 0) {
      struct timespec ts = {0, 50 * 1000000L};
      nanosleep(&ts, NULL);
      cli_progress_set(bar, *stopped);
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (!t[i].gone) {
      kill(t[i].node.pid, SIGKILL);
      unlink(t[i].path);
      cli_progress_set(bar, ++*stopped);
      cli_progress_say(bar, "manta: %s %d (%s) did not stop in 10 s: killed\n",
                       kind, t[i].node.pid, t[i].node.address);
    }
  }
}

static int cmd_stop(int argc, char **argv) {
  (void)argv;
  if (argc > 0) {
    die(2, "stop takes no arguments");
  }
  char dir[4096];
  state_dir(dir, sizeof dir);
  stop_target *nodes = NULL, *heads = NULL;
  size_t nnodes = 0, nheads = 0;
  if (!find_kind(dir, "node-", &nodes, &nnodes) ||
      !find_kind(dir, "head-", &heads, &nheads)) {
    die(1, "out of memory listing the nodes of %s", dir);
  }
  if (nnodes + nheads == 0) {
    printf("manta: no running node was started on this machine (%s)\n", dir);
    return 0;
  }
  /* The nodes first, then the head, which they would otherwise see go
   * and try to find again. */
  cli_progress bar;
  cli_progress_begin(&bar, "manta: stopping", nnodes + nheads);
  size_t stopped = 0;
  stop_together(nodes, nnodes, "node", &bar, &stopped);
  stop_together(heads, nheads, "head", &bar, &stopped);
  cli_progress_end(&bar);
  free(nodes);
  free(heads);
  return 0;
}

/* ---- status
 * ------------------------------------------------------------------ */

/* The head's address (and pid) from the state directory, or NULL. */
static const char *local_head(char *buf, size_t size, int *pid) {
  char dir[4096];
  state_dir(dir, sizeof dir);
  DIR *d = opendir(dir);
  const char *found = NULL;
  struct dirent *e;
  while (d && !found && (e = readdir(d))) {
    if (strncmp(e->d_name, "head-", 5) != 0 || strchr(e->d_name, '.')) {
      continue;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    cli_pidfile node;
    if (live_node(path, &node, false)) {
      snprintf(buf, size, "%s", node.address);
      found = buf;
      if (pid) {
        *pid = node.pid;
      }
    }
  }
  if (d) {
    closedir(d);
  }
  return found;
}

/* local_head as the timeline and logs commands take it (cli_remote.h). */
static const char *local_head_address(char *buf, size_t size) {
  return local_head(buf, size, NULL);
}

static const manta_value *field(const manta_value *m, const char *key) {
  const manta_value *v = NULL;
  return manta_map_find(m, key, &v) == MANTA_OK ? v : NULL;
}

static const char *str_of(const manta_value *m, const char *key) {
  const char *s = "";
  size_t len;
  const manta_value *v = field(m, key);
  if (v) {
    manta_get_string(v, &s, &len);
  }
  return s;
}

static long long int_of(const manta_value *m, const char *key) {
  int64_t i = 0;
  const manta_value *v = field(m, key);
  if (v) {
    manta_get_int(v, &i);
  }
  return (long long)i;
}

static void print_names(const char *label, const manta_value *list) {
  size_t n = 0;
  manta_len(list, &n);
  printf("    %-10s", label);
  if (n == 0) {
    printf(" -");
  }
  for (size_t i = 0; i < n; i++) {
    const manta_value *s;
    const char *text = "";
    size_t len;
    manta_list_at(list, i, &s);
    manta_get_string(s, &text, &len);
    printf("%s%s", i ? ", " : " ", text);
  }
  printf("\n");
}

/* "placement groups: N", then each group and its bundles' nodes. */
static void print_placement_groups(const manta_value *pgs) {
  size_t n = 0;
  manta_len(pgs, &n);
  printf("\nplacement groups: ");
  printf(n ? "%zu\n" : "none\n", n);
  for (size_t i = 0; i < n; i++) {
    const manta_value *g, *bundles = NULL;
    manta_list_at(pgs, i, &g);
    printf("  %s  %-13s %-10s creator %s", str_of(g, "id"),
           str_of(g, "strategy"), str_of(g, "state"), str_of(g, "creator"));
    const char *msg = str_of(g, "message");
    printf(msg[0] ? "  (%s)\n" : "\n", msg);
    size_t nb = 0;
    bundles = field(g, "bundles");
    manta_len(bundles, &nb);
    for (size_t b = 0; b < nb; b++) {
      const manta_value *e, *res;
      manta_list_at(bundles, b, &e);
      printf("    bundle %zu ", b);
      res = field(e, "resources");
      size_t nr = 0;
      manta_len(res, &nr);
      for (size_t k = 0; k < nr; k++) {
        const char *name;
        const manta_value *q;
        double qty = 0;
        manta_map_at(res, k, &name, &q);
        manta_get_double(q, &qty);
        printf("%s%s %g", k ? ", " : "{", name, qty);
      }
      const char *node = str_of(e, "node_id");
      printf(node[0] ? "}  on node %s\n" : "}  not reserved\n", node);
    }
  }
}

/* "store: URL (cluster NAME): ok", or why it fails (docs/head-store.md);
 * "store: none" for a head keeping its state in memory only. */
static void print_store(const manta_value *store) {
  if (!store) {
    printf("\nstore: none (the head's state lives in its memory only)\n");
    return;
  }
  int ok = 0;
  const manta_value *v = field(store, "ok");
  if (v) {
    manta_get_bool(v, &ok);
  }
  printf("\nstore: %s (cluster %s): ", str_of(store, "url"),
         str_of(store, "cluster_name"));
  if (ok) {
    printf("ok\n");
  } else {
    printf("FAILING for %lld ms: %s; %lld write(s) waiting, the cluster "
           "runs on\n",
           int_of(store, "down_for_ms"), str_of(store, "error"),
           int_of(store, "pending_writes"));
  }
}

static void print_status(const manta_value *st) {
  const manta_value *nodes = field(st, "nodes");
  size_t n = 0, alive = 0;
  manta_len(nodes, &n);
  for (size_t i = 0; i < n; i++) {
    const manta_value *node;
    manta_list_at(nodes, i, &node);
    alive += strcmp(str_of(node, "state"), "alive") == 0;
  }
  printf("cluster: %zu node(s), %zu alive; head %s\n", n, alive,
         str_of(st, "head"));
  for (size_t i = 0; i < n; i++) {
    const manta_value *node, *v;
    manta_list_at(nodes, i, &node);
    int is_head = 0, is_driver = 0;
    if ((v = field(node, "is_head"))) {
      manta_get_bool(v, &is_head);
    }
    if ((v = field(node, "is_driver"))) {
      manta_get_bool(v, &is_driver);
    }
    const char *role = is_head ? "head" : is_driver ? "driver" : "node";
    printf("\nnode %s  %s  %s  %s  pid %lld on %s\n", str_of(node, "node_id"),
           str_of(node, "address"), role, str_of(node, "state"),
           int_of(node, "pid"), str_of(node, "hostname"));
    const manta_value *res = field(node, "resources");
    size_t nres = 0;
    manta_len(res, &nres);
    printf("    %-10s", "resources");
    for (size_t k = 0; k < nres; k++) {
      const char *name;
      const manta_value *q;
      manta_map_at(res, k, &name, &q);
      double total = 0, avail = 0;
      if ((v = field(q, "total"))) {
        manta_get_double(v, &total);
      }
      if ((v = field(q, "available"))) {
        manta_get_double(v, &avail);
      }
      printf("%s%s %g/%g free", k ? ", " : " ", name, avail, total);
    }
    printf("\n");
    const char *metrics = str_of(node, "metrics_address");
    if (metrics[0]) {
      printf("    %-10s %s\n", "metrics", metrics);
    }
    print_names("functions", field(node, "functions"));
    print_names("classes", field(node, "classes"));
    printf("    %-10s %lld queued, %lld running, %lld finished; %lld "
           "actor(s); last heartbeat %lld ms ago\n",
           "tasks", int_of(node, "tasks_queued"), int_of(node, "tasks_running"),
           int_of(node, "tasks_finished"), int_of(node, "actors"),
           int_of(node, "last_heartbeat_ms"));
  }
  const manta_value *actors = field(st, "actors");
  size_t na = 0;
  manta_len(actors, &na);
  if (na == 0) {
    printf("\nnamed actors: none\n");
  } else {
    printf("\nnamed actors: %zu\n", na);
  }
  for (size_t i = 0; i < na; i++) {
    const manta_value *a;
    manta_list_at(actors, i, &a);
    printf("  %-20s %-20s on node %s\n", str_of(a, "name"), str_of(a, "class"),
           str_of(a, "node_id"));
  }
  print_placement_groups(field(st, "placement_groups"));
  print_store(field(st, "store"));
}

/* Set by SIGINT/SIGTERM during `manta status --watch`: the loop ends. */
static volatile sig_atomic_t watch_stop;

static void on_watch_signal(int sig) {
  (void)sig;
  watch_stop = 1;
}

/* Sleeps seconds, or less if a signal ends the watch. */
static void watch_pause(double seconds) {
  struct timespec ts = {(time_t)seconds,
                        (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (!watch_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int cmd_status(int argc, char **argv) {
  const char *address = NULL, *token = NULL;
  tls_args tls = {0};
  int json = 0;
  double every = 0; /* --watch: seconds between snapshots; 0: one */
  long count = 0;   /* --count: snapshots at most; 0: until stopped */
  for (int i = 0; i < argc; i++) {
    if (i + 1 < argc && tls_flag(argv[i], argv[i + 1], &tls)) {
      i++;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[i], "--watch") == 0) {
      every = 1;
      if (i + 1 < argc && argv[i + 1][0] != '-') {
        char *end;
        every = strtod(argv[++i], &end);
        if (*end || !(every >= 0.1 && every <= 3600)) {
          die(2, "--watch takes seconds from 0.1 to 3600, got %s", argv[i]);
        }
      }
    } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      char *end;
      count = strtol(argv[++i], &end, 10);
      if (*end || count < 1) {
        die(2, "--count takes a number of snapshots >= 1, got %s", argv[i]);
      }
    } else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
      address = argv[++i];
    } else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
      token = token_from_argv(argv[++i]);
    } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
      token = token_from_file(argv[++i]);
    } else {
      die(2, "unknown option %s (see manta --help)", argv[i]);
    }
  }
  if (count && !every) {
    die(2, "--count goes with --watch");
  }
  char buf[128];
  if (!address) {
    address = getenv("MANTA_ADDRESS");
  }
  if (!address || !*address) {
    address = local_head(buf, sizeof buf, NULL);
  } else {
    check_address("--address (or MANTA_ADDRESS)", address);
  }
  if (!address) {
    die(1, "no head started on this machine; give --address HOST:PORT");
  }
  /* No token: the library finds it (MANTA_TOKEN, MANTA_TOKEN_FILE, the
   * state folder's token file) as a driver's manta_init would; no TLS
   * flags: MANTA_TLS_* decide. */
  manta_options *o;
  if (manta_options_new(&o) != MANTA_OK) {
    die(1, "out of memory");
  }
  if (token && manta_options_set_token(o, token) != MANTA_OK) {
    die(2, "bad token (see the line above)");
  }
  tls_options(o, &tls);
  /* On a terminal each snapshot redraws the screen in place; otherwise
   * (a file, a pipe) snapshots follow one another under a dated line. */
  bool redraw = every > 0 && isatty(STDOUT_FILENO);
  if (every > 0) {
    signal(SIGINT, on_watch_signal);
    signal(SIGTERM, on_watch_signal);
  }
  int rc = 0;
  for (long n = 1; !watch_stop; n++) {
    manta_value *st = NULL;
    manta_err err = manta_cluster_status_with(address, o, 5000, &st);
    if (every > 0) {
      time_t now = time(NULL);
      char when[64];
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
      fputs(redraw ? "\033[H\033[2J" : "", stdout);
      printf("== %s, every %g s%s\n", when, every,
             redraw ? " (Ctrl-C stops)" : "");
    }
    if (err != MANTA_OK) {
      fprintf(stderr, "manta: %s\n", manta_error_message(st));
      rc = 1;
    } else if (json) {
      char *text = manta_value_repr(st);
      printf("%s\n", text);
      manta_free(text);
    } else {
      print_status(st);
    }
    manta_value_free(st);
    fflush(stdout);
    /* One snapshot without --watch; a failed one ends a watch off a
     * terminal (a script learns of it by the exit status). */
    if (!every || (count && n >= count) || (rc && !redraw)) {
      break;
    }
    rc = 0;
    watch_pause(every);
  }
  manta_options_free(o);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(usage_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("manta %s\n", manta_version_string());
    return 0;
  }
  if (strcmp(argv[1], "start") == 0) {
    return cmd_start(argc - 2, argv + 2);
  }
  if (strcmp(argv[1], "stop") == 0) {
    return cmd_stop(argc - 2, argv + 2);
  }
  if (strcmp(argv[1], "status") == 0) {
    return cmd_status(argc - 2, argv + 2);
  }
  if (strcmp(argv[1], "timeline") == 0) {
    return cli_timeline(argc - 2, argv + 2, local_head_address);
  }
  if (strcmp(argv[1], "logs") == 0) {
    return cli_logs(argc - 2, argv + 2, local_head_address);
  }
  if (strcmp(argv[1], "serve") == 0) {
    return cli_serve_main(argc - 2, argv + 2);
  }
  die(2, "unknown command '%s' (see manta --help)", argv[1]);
  return 2;
}
