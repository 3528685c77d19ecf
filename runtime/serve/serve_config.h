/*
 * Deployment specs from values, and values from deployment files (YAML,
 * libyaml). A file and an admin request (JSON) become the same value, then
 * the same spec, so both are checked by one function.
 */
#ifndef MT_SERVE_CONFIG_H
#define MT_SERVE_CONFIG_H

#include "manta.h"
#include "serve_routes.h"

#include <stddef.h>

/*
 * One deployment from a map: route (string), function or class (string),
 * method (string), replicas, max_ongoing_requests, timeout_ms,
 * min_replicas, max_replicas, target_ongoing_requests (ints > 0),
 * idempotent (bool), health_check_method (string),
 * health_check_period_ms, health_check_timeout_ms (ints > 0).
 * Unknown keys and wrong types are refused naming the key.
 */
manta_err mt_serve_spec_from_value(const manta_value *v, mt_serve_spec *out,
                                   char *why, size_t why_size);

/* A checked spec as the JSON mt_serve_spec_from_value reads back (the
 * same deployment); malloc'd, NULL on OOM. How a route travels to the
 * head and the other ingresses (serve_sync.c). */
char *mt_serve_spec_to_json(const mt_serve_spec *s);

/* A YAML document as a value: mappings -> maps, sequences -> lists, plain
 * scalars typed (null, true/false, integers, floats), other scalars
 * strings. NULL with why (line and column) when it is not YAML, or uses
 * anchors, aliases or tags (not needed for a deployment file). */
manta_value *mt_serve_yaml_decode(const char *text, size_t len, char *why,
                                  size_t why_size);

#endif
