/* Small enums named by strings (options, arguments): one table per enum,
 * looked up both ways. */
#ifndef NM_ENUM_H
#define NM_ENUM_H

#include <string.h>

/* The name of value v in a table of n names, or NULL out of range. */
static inline const char *nm_enum_name(const char *const *names, unsigned n,
                                       unsigned v) {
  return v < n ? names[v] : NULL;
}

/* The value named `name`: 0 and *out set, or -1 if no entry has it. */
static inline int nm_enum_parse(const char *const *names, unsigned n,
                                const char *name, unsigned *out) {
  for (unsigned i = 0; i < n; i++) {
    if (strcmp(name, names[i]) == 0) {
      *out = i;
      return 0;
    }
  }
  return -1;
}

/* Defines `const char *prefix_name(type)` and `int prefix_parse(const char
 * *, type *)` for an enum whose values index `table`. */
#define NM_ENUM_FUNCTIONS(type, prefix, table)                                 \
  const char *prefix##_name(type v) {                                          \
    return nm_enum_name(table, sizeof table / sizeof *table, (unsigned)v);     \
  }                                                                            \
  int prefix##_parse(const char *name, type *out) {                            \
    unsigned v;                                                                \
    if (nm_enum_parse(table, sizeof table / sizeof *table, name, &v) != 0) {   \
      return -1;                                                               \
    }                                                                          \
    *out = (type)v;                                                            \
    return 0;                                                                  \
  }

#endif
