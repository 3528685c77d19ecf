/* The head's address as a list: "h1:6390,h2:6390" (cluster.h). A node or
 * driver registers with the first that answers and moves on to the next
 * when its head stops answering, so a standby head on the same store
 * (docs/head-store.md) takes the cluster over. */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One element: HOST:PORT with a port from 1 to 65535. */
static bool element_ok(const char *e, size_t len, char *why, size_t size) {
  char buf[MT_HEAD_ADDRESS_MAX];
  if (len == 0) {
    snprintf(why, size, "an empty element in the head address list");
    return false;
  }
  if (len >= sizeof buf) {
    snprintf(why, size, "'%.*s' is too long for a head address", (int)len, e);
    return false;
  }
  memcpy(buf, e, len);
  buf[len] = 0;
  const char *colon = strrchr(buf, ':');
  if (!colon || colon == buf) {
    snprintf(why, size, "'%s' in the head address list is not HOST:PORT", buf);
    return false;
  }
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || colon[1] == '-' || colon[1] == '+' || port < 1 ||
      port > 65535) {
    snprintf(why, size,
             "'%s' in the head address list: the port must be a number "
             "from 1 to 65535",
             buf);
    return false;
  }
  return true;
}

bool mt_head_list_parse(const char *list, char out[][MT_HEAD_ADDRESS_MAX],
                        size_t max, size_t *n, char *why, size_t size) {
  *n = 0;
  const char *p = list;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (!element_ok(p, len, why, size)) {
      return false;
    }
    if (*n == max) {
      snprintf(why, size, "at most %zu head addresses in the list", max);
      return false;
    }
    memcpy(out[*n], p, len);
    out[*n][len] = 0;
    (*n)++;
    if (!comma) {
      return true;
    }
    p = comma + 1;
  }
}
