/* What commands that ask a running cluster share (`manta timeline`,
 * `manta logs`): finding the head and the options that reach it. */
#ifndef CLI_REMOTE_H
#define CLI_REMOTE_H

#include <manta.h>

#include <stddef.h>

/* Where the head is when no --address is given and MANTA_ADDRESS is
 * unset: the head started on this machine, or NULL. */
typedef const char *(*cli_local_head_fn)(char *buf, size_t size);

/* The head's address: address, else MANTA_ADDRESS, else the local head
 * (into buf); NULL after saying why on stderr. */
const char *cli_head_address(const char *address, cli_local_head_fn local,
                             char *buf, size_t size);
/* Options carrying the token of token_file (NULL: the library finds it as
 * manta_init does; TLS from MANTA_TLS_*); NULL after saying why. */
manta_options *cli_remote_options(const char *token_file);

#endif
