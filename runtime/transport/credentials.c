/*
 * Credentials of servers and channels (credentials.h), and what a failed
 * connection most likely means (mt_tp_explain_unavailable). TLS comes from
 * gRPC core's SSL credentials, on the OpenSSL that libgrpc links.
 */
#include "credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* Whether a TCP connection to address opens within timeout_ms. */
static bool tcp_connects(const char *address, int timeout_ms) {
  char host[300];
  const char *colon = strrchr(address, ':');
  if (!colon || (size_t)(colon - address) >= sizeof host) {
    return false;
  }
  size_t len = (size_t)(colon - address);
  const char *start = address;
  if (len >= 2 && address[0] == '[' && address[len - 1] == ']') {
    start++;
    len -= 2;
  }
  memcpy(host, start, len);
  host[len] = '\0';
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res) {
    return false;
  }
  bool open = false;
  for (struct addrinfo *a = res; a && !open; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    a->ai_protocol);
    if (fd < 0) {
      continue;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      open = true;
    } else if (errno == EINPROGRESS) {
      struct pollfd p = {fd, POLLOUT, 0};
      int err = 0;
      socklen_t elen = sizeof err;
      open = poll(&p, 1, timeout_ms) == 1 &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0;
    }
    close(fd);
  }
  freeaddrinfo(res);
  return open;
}

void mt_tp_explain_unavailable(const char *address, const mt_tp_tls *tls,
                               char *buf, size_t size) {
  buf[0] = '\0';
  if (!tcp_connects(address, 1000)) {
    return; /* unreachable indeed: gRPC's detail says it */
  }
  if (!mt_tp_tls_client_on(tls)) {
    snprintf(buf, size,
             "a server listens at %s but the connection did not hold: it "
             "most likely requires TLS, and this process has none (give "
             "--tls-cert, --tls-key and --tls-ca, or MANTA_TLS_CERT, "
             "MANTA_TLS_KEY and MANTA_TLS_CA)",
             address);
  } else {
    snprintf(buf, size,
             "a server listens at %s but the TLS handshake failed: it may "
             "not use TLS, its certificate may not be signed by %s or not "
             "name \"%s\", or it demands a client certificate signed by its "
             "CA%s",
             address, tls->ca ? "the CA given" : "the system's roots",
             MT_TP_TLS_NAME,
             tls->cert ? " (this one's may not be)"
                       : " (this process gives none)");
  }
}
