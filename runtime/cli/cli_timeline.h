/* `manta timeline`: the cluster's recent task and actor-call events as a
 * Chrome trace file (docs/observability.md). */
#ifndef CLI_TIMELINE_H
#define CLI_TIMELINE_H

#include "cli_remote.h"

/* manta timeline ARGS (after the word "timeline"): the exit status. */
int cli_timeline(int argc, char **argv, cli_local_head_fn local_head);

extern const char cli_timeline_usage[];

#endif
