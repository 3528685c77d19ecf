/*
 * The C Aggregator as a module: a node started with
 * `manta start --module db_aggregate_module.so`, or a Java program calling
 * Manta.loadModule, offers the class "Aggregator" to every caller.
 */
#include "aggregator.h"

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  return aggregator_register();
}
