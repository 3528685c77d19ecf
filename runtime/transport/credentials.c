/*
 * Credentials of servers and channels (credentials.h): TLS from gRPC
 * core's SSL credentials, on the OpenSSL that libgrpc links.
 */
#include "credentials.h"

bool mt_tp_tls_client_on(const mt_tp_tls *tls) {
  return tls && (tls->ca || tls->cert);
}

bool mt_tp_tls_server_on(const mt_tp_tls *tls) {
  return tls && tls->cert && tls->key;
}

grpc_server_credentials *mt_tp_server_credentials(const mt_tp_tls *tls) {
  if (!mt_tp_tls_server_on(tls)) {
    return grpc_insecure_server_credentials_create();
  }
  grpc_ssl_pem_key_cert_pair pair = {tls->key, tls->cert};
  /* A CA means mutual TLS: a client without a certificate signed by it is
   * refused during the handshake, before any call (and its token) is
   * read. */
  return grpc_ssl_server_credentials_create_ex(
      tls->ca, &pair, 1,
      tls->ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
      NULL);
}

grpc_channel_credentials *mt_tp_channel_credentials(const mt_tp_tls *tls) {
  if (!mt_tp_tls_client_on(tls)) {
    return grpc_insecure_credentials_create();
  }
  grpc_ssl_pem_key_cert_pair pair = {tls->key, tls->cert};
  /* The server is checked against the CA (NULL: the system's roots) under
   * MT_TP_TLS_NAME, which the channel sets as its target name. */
  return grpc_ssl_credentials_create_ex(
      tls->ca, tls->cert && tls->key ? &pair : NULL, NULL, NULL);
}
