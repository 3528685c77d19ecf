/*
 * One HTTP/1.1 request per connection ("Connection: close": the answer
 * ends where the server closes), over a socket or a GnuTLS session.
 * Requests are small and one per command, so no keep-alive, no chunked
 * uploads.
 */
#include "cli_http_client.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REPLY_LIMIT (16 * 1024 * 1024)
/* The name every manta certificate carries and every manta client checks
 * (docs/security.md, "Which name a certificate carries"). */
#define TLS_NAME "manta"

/* The connection: a socket, and a TLS session on it when one is made. */
typedef struct conn {
  int fd;
  gnutls_session_t tls;
  gnutls_certificate_credentials_t cred;
} conn;

static bool conn_send(conn *c, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = c->tls ? gnutls_record_send(c->tls, p, n)
                       : send(c->fd, p, n, MSG_NOSIGNAL);
    if (c->tls && w == GNUTLS_E_INTERRUPTED) {
      continue; /* (GNUTLS_E_AGAIN is the socket's timeout: an error) */
    }
    if (w <= 0) {
      return false;
    }
    p += w, n -= (size_t)w;
  }
  return true;
}

/* >0 bytes read, 0 at the end (a server that closes without a TLS
 * close_notify ends the answer too), <0 on an error. */
static ssize_t conn_recv(conn *c, char *p, size_t n) {
  if (!c->tls) {
    return recv(c->fd, p, n, 0);
  }
  for (;;) {
    ssize_t r = gnutls_record_recv(c->tls, p, n);
    if (r == GNUTLS_E_INTERRUPTED) {
      continue; /* (GNUTLS_E_AGAIN is the socket's timeout: an error) */
    }
    return r == GNUTLS_E_PREMATURE_TERMINATION ? 0 : r;
  }
}

static void conn_close(conn *c) {
  if (c->tls) {
    gnutls_deinit(c->tls);
  }
  if (c->cred) {
    gnutls_certificate_free_credentials(c->cred);
  }
  if (c->fd >= 0) {
    close(c->fd);
  }
}

/* The TLS handshake on c->fd, checking the server against ca. */
static bool tls_start(conn *c, const char *hostport, const char *ca, char *why,
                      size_t why_size) {
  int rc = gnutls_certificate_allocate_credentials(&c->cred);
  if (rc >= 0) {
    rc = gnutls_certificate_set_x509_trust_file(c->cred, ca,
                                                GNUTLS_X509_FMT_PEM);
    if (rc == 0) {
      snprintf(why, why_size, "the CA file %s holds no PEM certificate", ca);
      return false;
    }
  }
  if (rc < 0) {
    snprintf(why, why_size, "cannot read the CA file %s: %s", ca,
             gnutls_strerror(rc));
    return false;
  }
  if ((rc = gnutls_init(&c->tls, GNUTLS_CLIENT)) < 0 ||
      (rc = gnutls_set_default_priority(c->tls)) < 0 ||
      (rc = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred)) <
          0) {
    snprintf(why, why_size, "cannot set up TLS: %s", gnutls_strerror(rc));
    return false;
  }
  gnutls_session_set_verify_cert(c->tls, TLS_NAME, 0);
  gnutls_transport_set_int(c->tls, c->fd);
  gnutls_handshake_set_timeout(c->tls, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
  do {
    rc = gnutls_handshake(c->tls);
  } while (rc < 0 && !gnutls_error_is_fatal(rc));
  if (rc >= 0) {
    return true;
  }
  char detail[300] = "";
  if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    gnutls_datum_t out = {0};
    unsigned status = gnutls_session_get_verify_cert_status(c->tls);
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
                                                     &out, 0) == 0) {
      snprintf(detail, sizeof detail, ": %s", (const char *)out.data);
      gnutls_free(out.data);
    }
  }
  snprintf(why, why_size,
           "the TLS handshake with %s failed: %s%s (is it a TLS node's "
           "ingress, with a certificate from the CA %s?)",
           hostport, gnutls_strerror(rc), detail, ca);
  return false;
}

static bool dial(conn *c, const char *hostport, char *why, size_t why_size) {
  char host[256];
  const char *colon = strrchr(hostport, ':');
  if (!colon || colon == hostport ||
      (size_t)(colon - hostport) >= sizeof host) {
    snprintf(why, why_size, "'%s' is not HOST:PORT", hostport);
    return false;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(host, colon + 1, &hints, &res);
  if (rc != 0) {
    snprintf(why, why_size, "cannot resolve %s: %s", host, gai_strerror(rc));
    return false;
  }
  c->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = {.tv_sec = 60};
  if (c->fd >= 0) {
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  bool ok = c->fd >= 0 && connect(c->fd, res->ai_addr, res->ai_addrlen) == 0;
  if (!ok) {
    snprintf(why, why_size,
             "cannot reach Serve at %s: %s (is the head running with its "
             "ingress? see --http)",
             hostport, strerror(errno));
  }
  freeaddrinfo(res);
  return ok;
}

int cli_http_call(const char *hostport, const char *ca, const char *method,
                  const char *path, const char *token, const char *type,
                  const char *body, size_t len, char **reply, char *why,
                  size_t why_size) {
  conn c = {.fd = -1};
  if (!dial(&c, hostport, why, why_size) ||
      (ca && !tls_start(&c, hostport, ca, why, why_size))) {
    conn_close(&c);
    return -1;
  }
  char head[8192];
  int n = snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                   "Content-Length: %zu\r\n%s%s%s%s%s%s\r\n",
                   method, path, hostport, len, type ? "Content-Type: " : "",
                   type ? type : "", type ? "\r\n" : "",
                   *token ? "Authorization: Bearer " : "", token,
                   *token ? "\r\n" : "");
  bool sent = n > 0 && (size_t)n < sizeof head &&
              conn_send(&c, head, (size_t)n) &&
              (len == 0 || conn_send(&c, body, len));
  char *buf = NULL;
  size_t got = 0, cap = 0;
  while (sent) {
    if (got + 4096 + 1 > cap) {
      cap = cap ? 2 * cap : 16384;
      char *b = cap <= REPLY_LIMIT ? realloc(buf, cap) : NULL;
      if (!b) {
        break;
      }
      buf = b;
    }
    ssize_t r = conn_recv(&c, buf + got, cap - got - 1);
    if (r <= 0) {
      break;
    }
    got += (size_t)r;
  }
  conn_close(&c);
  int status = 0;
  char *sep = buf ? (buf[got] = '\0', strstr(buf, "\r\n\r\n")) : NULL;
  if (!sent || !sep || sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
    /* A TLS ingress drops a clear-text request unanswered. */
    snprintf(why, why_size, "no HTTP answer from %s%s", hostport,
             ca ? ""
                : " (in a TLS cluster the ingress speaks HTTPS: give "
                  "--tls-ca or MANTA_TLS_CA)");
    free(buf);
    return -1;
  }
  memmove(buf, sep + 4, strlen(sep + 4) + 1);
  *reply = buf;
  return status;
}
