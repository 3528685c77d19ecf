/* `manta logs [NODE] [-f]`: a node's log through the cluster
 * (docs/observability.md). */
#ifndef CLI_LOGS_H
#define CLI_LOGS_H

#include "cli_remote.h"

/* manta logs ARGS (after the word "logs"): the exit status. */
int cli_logs(int argc, char **argv, cli_local_head_fn local_head);

#endif
