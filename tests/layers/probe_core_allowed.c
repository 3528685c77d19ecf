/* Compiled with the core layer's include folders by run-include-probe.sh:
 * what a core file may include compiles (so a failure of the forbidden
 * probe is the rule at work, not a broken command). */
#include "rt.h"

int probe_core_allowed(void) {
  return MT_MAX_RESOURCES;
}
