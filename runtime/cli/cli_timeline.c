/* `manta timeline [-o FILE] [--address HOST:PORT] [--token-file PATH]`
 * (cli_timeline.h). Uses only manta.h: manta_timeline does the asking. */
#include "cli_timeline.h"

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

/* The whole file as a string (the token), or NULL with errno. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    return NULL;
  }
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\r\n")] = '\0';
  return strdup(buf);
}

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
  if (!address) {
    address = getenv("MANTA_ADDRESS");
  }
  if (!address || !*address) {
    address = local_head(buf, sizeof buf);
  }
  if (!address) {
    fprintf(stderr, "manta: no head started on this machine; give --address "
                    "HOST:PORT\n");
    return 1;
  }
  manta_options *o;
  if (manta_options_new(&o) != MANTA_OK) {
    fprintf(stderr, "manta: out of memory\n");
    return 1;
  }
  char *token = NULL;
  if (token_file && !(token = read_file(token_file))) {
    fprintf(stderr, "manta: cannot read the token file %s: %s\n", token_file,
            strerror(errno));
    manta_options_free(o);
    return 1;
  }
  if (token && manta_options_set_token(o, token) != MANTA_OK) {
    fprintf(stderr, "manta: the token in %s is refused\n", token_file);
    free(token);
    manta_options_free(o);
    return 2;
  }
  free(token);
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
