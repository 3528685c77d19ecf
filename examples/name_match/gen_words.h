/* Word lists the generator draws names from. */
#ifndef GEN_WORDS_H
#define GEN_WORDS_H

#include <stddef.h>

typedef struct gen_words {
  const char *const *words;
  size_t count;
} gen_words;

extern const gen_words gen_first_names;
extern const gen_words gen_surnames;
extern const gen_words gen_trades;   /* "Logistics", "Foods", ... */
extern const gen_words gen_suffixes; /* "Ltd", "GmbH", ... */
extern const gen_words gen_countries;

#endif
