/*
 * TLS for the raw gRPC floor, as manta sets it up (runtime/transport/
 * credentials.c), so that manta with TLS is compared with gRPC with TLS:
 * mutual TLS with the files scripts/tls-generate.sh makes in DIR (ca.pem;
 * node.pem/node.key for the server; client.pem/client.key, else the node's,
 * for the client), the server checked under the name "manta".
 */
#ifndef MANTA_BENCH_RAW_TLS_H
#define MANTA_BENCH_RAW_TLS_H

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DIR/name's text (malloc'd), or NULL. */
static inline char *raw_tls_read(const char *dir, const char *name) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "re");
  if (!f) {
    return NULL;
  }
  char *buf = malloc(1 << 20);
  size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (buf) {
    buf[n] = '\0';
  }
  return buf;
}

/* Mutual TLS server credentials from dir; NULL if a file is missing. */
static inline grpc_server_credentials *raw_tls_server(const char *dir) {
  char *ca = raw_tls_read(dir, "ca.pem");
  char *cert = raw_tls_read(dir, "node.pem");
  char *key = raw_tls_read(dir, "node.key");
  grpc_server_credentials *creds = NULL;
  if (ca && cert && key) {
    grpc_ssl_pem_key_cert_pair pair = {key, cert};
    creds = grpc_ssl_server_credentials_create_ex(
        ca, &pair, 1,
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY, NULL);
  }
  free(ca), free(cert), free(key);
  return creds;
}

/* Mutual TLS channel credentials from dir; NULL if a file is missing. The
 * channel must set GRPC_SSL_TARGET_NAME_OVERRIDE_ARG to "manta". */
static inline grpc_channel_credentials *raw_tls_channel(const char *dir) {
  char *ca = raw_tls_read(dir, "ca.pem");
  char *cert = raw_tls_read(dir, "client.pem");
  char *key = raw_tls_read(dir, "client.key");
  if (!cert || !key) {
    free(cert), free(key);
    cert = raw_tls_read(dir, "node.pem");
    key = raw_tls_read(dir, "node.key");
  }
  grpc_channel_credentials *creds = NULL;
  if (ca && cert && key) {
    grpc_ssl_pem_key_cert_pair pair = {key, cert};
    creds = grpc_ssl_credentials_create_ex(ca, &pair, NULL, NULL);
  }
  free(ca), free(cert), free(key);
  return creds;
}

#endif
