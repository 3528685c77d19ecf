/* What a failed connection most likely means (tls_hint.h). */
#include "tls_hint.h"

#include "loopback.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Whether a TCP connection to address opens within timeout_ms. */
static bool tcp_connects(const char *address, int timeout_ms) {
  char host[300];
  const char *port;
  if (!mt_split_host_port(address, host, sizeof host, &port)) {
    return false;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
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

void mt_tls_hint(const char *address, const mt_tp_tls *tls, char *buf,
                 size_t size) {
  buf[0] = '\0';
  if (!tcp_connects(address, 1000)) {
    return; /* unreachable indeed */
  }
  if (!tls || (!tls->ca && !tls->cert)) {
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
