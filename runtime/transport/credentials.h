/*
 * gRPC credentials from a mt_tp_tls (transport.h): cleartext, TLS, or
 * mutual TLS. Private to the transport: it includes grpc headers.
 */
#ifndef MT_TP_CREDENTIALS_H
#define MT_TP_CREDENTIALS_H

#include "transport.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

/* Whether a channel with tls speaks TLS (ca or a certificate given). */
bool mt_tp_tls_client_on(const mt_tp_tls *tls);
/* Whether a server with tls speaks TLS (certificate and key given). */
bool mt_tp_tls_server_on(const mt_tp_tls *tls);

/* The server's credentials; release with grpc_server_credentials_release. */
grpc_server_credentials *mt_tp_server_credentials(const mt_tp_tls *tls);
/* The channel's credentials; release with grpc_channel_credentials_release. */
grpc_channel_credentials *mt_tp_channel_credentials(const mt_tp_tls *tls);

#endif
