/*
 * A C module offering "name_key"(name): the key a counterparty name is
 * grouped by. ASCII letters are lowered, everything that is not a letter
 * or a digit separates words, and a legal form at the end ("Inc.", "Ltd",
 * "Corporation"...) is dropped: "ACME Corp." and "acme corporation" both
 * give "acme". examples/java/Pipeline.java calls it from Java.
 */
#include <manta.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const legal_forms[] = {
    "inc",  "incorporated", "ltd", "limited", "llc",
    "corp", "corporation",  "co",  "company", "plc",
    "gmbh", "ag",           "sa",  "nv",      "bv"};

static int is_legal_form(const char *word, size_t len) {
  for (size_t i = 0; i < sizeof legal_forms / sizeof *legal_forms; i++) {
    if (strlen(legal_forms[i]) == len &&
        memcmp(legal_forms[i], word, len) == 0) {
      return 1;
    }
  }
  return 0;
}

static manta_value *name_key(const manta_value *const *args, size_t n,
                             void *u) {
  (void)n, (void)u;
  const char *s;
  size_t len;
  if (manta_get_string(args[0], &s, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "name_key takes a string");
  }
  char *key = malloc(len + 1);
  if (!key) {
    return manta_error(MANTA_ERR_NOMEM, "name_key: no memory");
  }
  size_t out = 0, last_word = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && !isalnum((unsigned char)s[i]) && (s[i] & 0x80) == 0) {
      i++;
    }
    if (i == len) {
      break;
    }
    if (out > 0) {
      key[out++] = ' ';
    }
    last_word = out;
    while (i < len && (isalnum((unsigned char)s[i]) || (s[i] & 0x80))) {
      key[out++] = (char)tolower((unsigned char)s[i++]);
    }
  }
  /* Drop the legal form, unless it is the whole name. */
  if (last_word > 0 && is_legal_form(key + last_word, out - last_word)) {
    out = last_word - 1;
  }
  manta_value *v = manta_string(key, out);
  free(key);
  return v ? v : manta_error(MANTA_ERR_NOMEM, "name_key: no memory");
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  return manta_register_function("name_key", name_key, 1, NULL);
}
