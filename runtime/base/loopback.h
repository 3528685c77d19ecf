/*
 * Whether a bind address reaches this machine only. Decided by address,
 * not by name: a host name is resolved and every address it resolves to
 * must be loopback, so "127.evil.example" or a name that also resolves
 * to a public address is not loopback.
 */
#ifndef MT_LOOPBACK_H
#define MT_LOOPBACK_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>

/* getaddrinfo's signature: the tests give a resolver of their own. */
typedef int (*mt_resolve_fn)(const char *node, const char *service,
                             const struct addrinfo *hints,
                             struct addrinfo **res);

/* Whether addr is in 127.0.0.0/8, is ::1, or is ::ffff:127.x.x.x. */
bool mt_addr_is_loopback(const struct sockaddr *addr);

/*
 * The host of "HOST:PORT" or "[V6]:PORT" into host (size bytes), without
 * brackets, and *port (if port is not NULL) pointing at the port. false if
 * there is no colon, no host, or the host does not fit.
 */
bool mt_split_host_port(const char *host_port, char *host, size_t size,
                        const char **port);

/*
 * Whether every address the host of host_port ("HOST:PORT", "[V6]:PORT")
 * resolves to is loopback (resolve: NULL means getaddrinfo; its results
 * are released with freeaddrinfo). An empty host, a wildcard, or a host
 * that does not resolve is not loopback.
 */
bool mt_bind_is_loopback(const char *host_port, mt_resolve_fn resolve);

#endif
