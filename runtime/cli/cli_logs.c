/* `manta logs [NODE] [-f] [--bytes N] [--address HOST:PORT]
 * [--token-file PATH]` (cli_logs.h): the last N bytes (64 KiB) of a
 * node's log, then, with -f, what it writes next, asked every half second
 * until Ctrl-C. Uses only manta.h (manta_node_log). */
#include "cli_logs.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t follow_stop;

static void on_signal(int sig) {
  (void)sig;
  follow_stop = 1;
}

static const char usage[] =
    "usage: manta logs [NODE] [-f] [--bytes N] [--address HOST:PORT] "
    "[--token-file PATH]\n"
    "  NODE: a node id (or its first digits) or HOST:PORT; the head if none\n";

/* Prints one chunk; false when asking failed (said on stderr). */
static bool print_chunk(const char *address, const manta_options *o,
                        const char *node, int64_t *from) {
  char *text = NULL;
  size_t len = 0;
  int64_t next = 0;
  manta_err err = manta_node_log(address, o, node, *from, &text, &len, &next);
  if (err != MANTA_OK) {
    fprintf(stderr, "manta: logs: %s (see the line above)\n",
            manta_strerror(err));
    return false;
  }
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  manta_free(text);
  *from = next;
  return true;
}

int cli_logs(int argc, char **argv, cli_local_head_fn local_head) {
  const char *address = NULL, *token_file = NULL, *node = NULL;
  bool follow = false;
  int64_t bytes = 64 * 1024;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0) {
      follow = true;
    } else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc) {
      char *end;
      errno = 0;
      bytes = strtoll(argv[++i], &end, 10);
      if (errno || *end || bytes < 0) {
        fprintf(stderr, "manta: --bytes takes a number of bytes, not %s\n",
                argv[i]);
        return 2;
      }
    } else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
      address = argv[++i];
    } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
      token_file = argv[++i];
    } else if (argv[i][0] != '-' && !node) {
      node = argv[i];
    } else {
      fprintf(stderr, "manta: logs: unknown option %s\n%s", argv[i], usage);
      return 2;
    }
  }
  char buf[128];
  if (!(address = cli_head_address(address, local_head, buf, sizeof buf))) {
    return 1;
  }
  manta_options *o = cli_remote_options(token_file);
  if (!o) {
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  /* The last `bytes` of the log; 0 from its end: only what comes next. */
  int64_t from = bytes ? -bytes : -1;
  bool ok = true;
  if (bytes == 0) {
    char *text = NULL;
    size_t len;
    ok = manta_node_log(address, o, node, -1, &text, &len, &from) == MANTA_OK;
    manta_free(text);
    from = ok ? from : 0;
  }
  ok = ok && print_chunk(address, o, node, &from);
  while (ok && follow && !follow_stop) {
    struct timespec half = {0, 500000000};
    while (!follow_stop && nanosleep(&half, &half) != 0 && errno == EINTR) {
    }
    if (!follow_stop) {
      ok = print_chunk(address, o, node, &from);
    }
  }
  manta_options_free(o);
  return ok ? 0 : 1;
}
