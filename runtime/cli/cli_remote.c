/* Finding the head and reaching it (cli_remote.h). */
#include "cli_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_head_address(const char *address, cli_local_head_fn local,
                             char *buf, size_t size) {
  if (!address) {
    address = getenv("MANTA_ADDRESS");
  }
  if (!address || !*address) {
    address = local(buf, size);
  }
  if (!address) {
    fprintf(stderr, "manta: no head started on this machine; give "
                    "--address HOST:PORT\n");
  }
  return address;
}

manta_options *cli_remote_options(const char *token_file) {
  manta_options *o;
  if (manta_options_new(&o) != MANTA_OK) {
    fprintf(stderr, "manta: out of memory\n");
    return NULL;
  }
  if (token_file && manta_options_set_token_file(o, token_file) != MANTA_OK) {
    fprintf(stderr,
            "manta: the token file %s is refused (see the line "
            "above)\n",
            token_file);
    manta_options_free(o);
    return NULL;
  }
  return o;
}
