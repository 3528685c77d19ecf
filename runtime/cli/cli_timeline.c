/* `manta timeline [-o FILE] [--address HOST:PORT] [--token-file PATH]`
 * (cli_timeline.h). Uses only manta.h: manta_timeline does the asking. */
#include "cli_timeline.h"
#include "cli_remote.h"

#include <manta.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cli_timeline_usage[] =
    "  manta timeline [-o FILE] [--address HOST:PORT] [--token-file PATH]\n"
    "                                            the nodes' recent tasks "
    "and\n"
    "                                            actor calls as a Chrome "
    "trace\n"
    "                                            (default trace.json; nodes "
    "note\n"
    "                                            them with "
    "MANTA_TIMELINE=on)\n";

/* How many complete events a trace holds. */
static size_t count_events(const char *json) {
  size_t n = 0;
  for (const char *p = json; (p = strstr(p, "\"ph\":\"X\"")); p++) {
    n++;
  }
  return n;
}

int cli_timeline(int argc, char **argv, cli_local_head_fn local_head) {
  const char *out = "trace.json", *address = NULL, *token_file = NULL;
  for (int i = 0; i < argc; i++) {
    if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
        i + 1 < argc) {
      out = argv[++i];
    } else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
      address = argv[++i];
    } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
      token_file = argv[++i];
    } else {
      fprintf(stderr, "manta: timeline: unknown option %s\nusage:\n%s", argv[i],
              cli_timeline_usage);
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
  char *json = NULL;
  manta_err err = manta_timeline(address, o, &json);
  manta_options_free(o);
  if (err != MANTA_OK) {
    fprintf(stderr,
            "manta: timeline: %s (the head at %s: see the line above)\n",
            manta_strerror(err), address);
    return 1;
  }
  FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
  if (!f) {
    fprintf(stderr, "manta: cannot write %s: %s\n", out, strerror(errno));
    manta_free(json);
    return 1;
  }
  bool ok = fputs(json, f) >= 0 && fputc('\n', f) != EOF;
  ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
  size_t n = count_events(json);
  manta_free(json);
  if (!ok) {
    fprintf(stderr, "manta: cannot write %s: %s\n", out, strerror(errno));
    return 1;
  }
  if (f != stdout) {
    printf("manta: %zu events written to %s%s\n", n, out,
           n ? "" : " (none: start the nodes with MANTA_TIMELINE=on)");
  }
  return 0;
}
