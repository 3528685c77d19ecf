/*
 * A node's log, read by others (docs/observability.md, `manta logs`): the
 * file this node's standard error goes to (`manta start` sends it to the
 * state folder's NAME-PID.log; a foreground node to wherever its caller
 * redirected it), a chunk at a time from an offset.
 */
#ifndef MT_API_LOGS_H
#define MT_API_LOGS_H

#include "http.h"

#include <stdint.h>

/* At most this much of the log per answer. */
#define MT_LOG_CHUNK (256 * 1024)

/* This node's log from byte `from` (negative: that many bytes before the
 * end) as text/plain in reply, with the offset after the chunk in the
 * header-like first line "next N\n" (so a follower can ask again from
 * there). 404 when standard error is no regular file (a terminal, a
 * pipe): there is no log to read. query: "from=N" or NULL. */
void mt_api_logs_local(const char *query, mt_http_reply *reply);

#endif
