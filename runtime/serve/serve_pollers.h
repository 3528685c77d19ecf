/*
 * The ingress's event loop: libmicrohttpd without a thread of its own,
 * run by two poller threads that take turns at it, the holder running the
 * calls its requests made itself (serve_pollers.c says why and how).
 */
#ifndef MT_SERVE_POLLERS_H
#define MT_SERVE_POLLERS_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Daemon;

/* Starts the pollers of d (a daemon started with MHD_USE_EPOLL and no
 * internal thread); false, with why, if they cannot start. One daemon at a
 * time (the ingress is one per process). */
bool mt_serve_pollers_start(struct MHD_Daemon *d, char *why, size_t why_size);

/* Lets the holder run libmicrohttpd once more (connections resumed by now
 * are answered) and joins the pollers; then the daemon may stop. */
void mt_serve_pollers_stop(void);

/* Called from a request callback before it submits a call: the call wakes
 * no worker, the poller runs it once libmicrohttpd returns (any worker
 * that is idle and spinning may still take it first). */
void mt_serve_pollers_defer(void);

/* After MHD_resume_connection, from any thread: the holder runs the
 * resumed connection (now, or after the call it runs if it is this
 * thread). */
void mt_serve_pollers_resumed(void);

#endif
