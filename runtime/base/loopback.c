/* The loopback test of a bind address, by address (loopback.h). */
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

bool mt_addr_is_loopback(const struct sockaddr *addr) {
  if (addr->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a)) {
      return true;
    }
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
  }
  return false;
}

bool mt_split_host_port(const char *host_port, char *host, size_t size,
                        const char **port) {
  const char *colon = strrchr(host_port, ':');
  if (!colon) {
    return false;
  }
  const char *start = host_port;
  size_t len = (size_t)(colon - host_port);
  /* "[::1]:P": the brackets are not part of the address. */
  if (len >= 2 && host_port[0] == '[' && host_port[len - 1] == ']') {
    start++;
    len -= 2;
  }
  if (len == 0 || len >= size) {
    return false; /* no host: every interface */
  }
  memcpy(host, start, len);
  host[len] = '\0';
  if (port) {
    *port = colon + 1;
  }
  return true;
}

bool mt_bind_is_loopback(const char *host_port, mt_resolve_fn resolve) {
  char host[256];
  if (!mt_split_host_port(host_port, host, sizeof host, NULL)) {
    return false;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if ((resolve ? resolve : getaddrinfo)(host, NULL, &hints, &res) != 0 ||
      !res) {
    return false;
  }
  bool all = true;
  for (struct addrinfo *a = res; a && all; a = a->ai_next) {
    all = a->ai_addr && mt_addr_is_loopback(a->ai_addr);
  }
  freeaddrinfo(res);
  return all;
}
