/*
 * What a connection that failed UNAVAILABLE most likely means. gRPC says
 * "Socket closed" or "failed to connect" both when nothing listens and
 * when a server cut the handshake (TLS on one side only, another CA); a
 * plain TCP connect tells the two apart, and the second is said in terms
 * of TLS (docs/security.md, "TLS and mutual TLS").
 */
#ifndef MT_TLS_HINT_H
#define MT_TLS_HINT_H

#include "transport.h"

#include <stddef.h>

/*
 * Into buf: why a call to address ("HOST:PORT") from a process with tls
 * (NULL: cleartext) failed UNAVAILABLE although something listens there,
 * after a TCP connect of at most 1 s; "" when nothing listens (gRPC's own
 * detail says enough).
 */
void mt_tls_hint(const char *address, const mt_tp_tls *tls, char *buf,
                 size_t size);

#endif
