/*
 * gRPC's own log lines, routed through one function. gRPC logs a line for
 * every failed TLS handshake ("Handshake failed with fatal error ..."),
 * without saying from whom: any client that can connect to a TLS node
 * could fill its log by connecting in clear text. Those lines are counted
 * like refused calls (refusals.h: one line, then at most one per interval
 * with a count); every other gRPC line is written as gRPC would.
 */
#ifndef MT_TP_GRPC_LOG_H
#define MT_TP_GRPC_LOG_H

/* Installs the log function (once per process) and starts counting; before
 * grpc_init. */
void mt_tp_grpc_log_start(void);
/* Says what was counted but not said, and stops counting; after gRPC has
 * shut down. */
void mt_tp_grpc_log_stop(void);

#endif
