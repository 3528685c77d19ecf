/* Compiled with the core layer's include folders by run-include-probe.sh:
 * a core file that includes the cluster's header must fail to compile. */
#include "rt.h"

#include "cluster.h"

int probe_core_forbidden(void) {
  return MT_MAX_RESOURCES;
}
