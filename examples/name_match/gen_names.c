/*
 * gen_names: writes a reference file of counterparty names and a query file
 * of names to look up in it, the same for the same seed on any machine.
 *
 *   gen_names [--seed N] [--refs N] [--queries N] [--unrelated PERCENT]
 *             REFERENCE.csv QUERIES.csv
 *
 * Reference names are people ("Maria Rossi", "John K. Smith") and companies
 * ("Schmidt Logistics GmbH", "Wang & Okafor Ltd") drawn from the word lists
 * in gen_words.c. Most queries are a reference name as another system would
 * have typed it: with typos (a neighbouring key, a letter dropped, doubled
 * or swapped), in other case, with other punctuation or another form of the
 * company suffix; the rest (--unrelated, default 10%) are new names.
 *
 * reference.csv has the columns id,name,country; queries.csv has
 * name,source_row (the 1-based reference row a query was made from, empty
 * for an unrelated one).
 */
#include "gen_words.h"
#include "nm_csv.h"
#include "nm_utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast, and the same sequence everywhere. */
typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint32_t below(rng *r, uint32_t n) {
  return (uint32_t)(((next(r) >> 32) * (uint64_t)n) >> 32);
}

static const char *pick(rng *r, const gen_words *w) {
  return w->words[below(r, (uint32_t)w->count)];
}

enum { NAME_MAX_BYTES = 512 };

static size_t make_name(rng *r, char *out) {
  uint32_t kind = below(r, 100);
  int n;
  if (kind < 35) {
    n = snprintf(out, NAME_MAX_BYTES, "%s %s", pick(r, &gen_first_names),
                 pick(r, &gen_surnames));
  } else if (kind < 45) {
    n = snprintf(out, NAME_MAX_BYTES, "%s %c. %s", pick(r, &gen_first_names),
                 'A' + (int)below(r, 26), pick(r, &gen_surnames));
  } else if (kind < 70) {
    n = snprintf(out, NAME_MAX_BYTES, "%s %s %s", pick(r, &gen_surnames),
                 pick(r, &gen_trades), pick(r, &gen_suffixes));
  } else if (kind < 82) {
    n = snprintf(out, NAME_MAX_BYTES, "%s %s %s %s", pick(r, &gen_surnames),
                 below(r, 3) ? "&" : "and", pick(r, &gen_surnames),
                 pick(r, &gen_suffixes));
  } else if (kind < 92) {
    n = snprintf(out, NAME_MAX_BYTES, "%s %s %s", pick(r, &gen_first_names),
                 pick(r, &gen_surnames), pick(r, &gen_suffixes));
  } else {
    n = snprintf(out, NAME_MAX_BYTES, "%s, %s & %s", pick(r, &gen_surnames),
                 pick(r, &gen_surnames), pick(r, &gen_surnames));
  }
  return n < NAME_MAX_BYTES ? (size_t)n : NAME_MAX_BYTES - 1;
}

/* ---- making a query from a name --------------------------------------- */

/* Replaces the first whole word `from` by `to`; returns 1 if it did. */
static int replace_word(char *s, const char *from, const char *to) {
  size_t fl = strlen(from), tl = strlen(to), sl = strlen(s);
  for (char *p = strstr(s, from); p; p = strstr(p + 1, from)) {
    int starts = p == s || p[-1] == ' ';
    int ends = p[fl] == '\0' || p[fl] == ' ' || p[fl] == ',';
    if (starts && ends && sl - fl + tl < NAME_MAX_BYTES) {
      memmove(p + tl, p + fl, strlen(p + fl) + 1);
      memcpy(p, to, tl);
      return 1;
    }
  }
  return 0;
}

static const char *const synonyms[][2] = {{"Ltd", "Limited"},
                                          {"Limited", "Ltd."},
                                          {"Inc", "Incorporated"},
                                          {"Inc.", "Inc"},
                                          {"Corp.", "Corporation"},
                                          {"Corporation", "Corp"},
                                          {"Co.", "Company"},
                                          {"&", "and"},
                                          {"and", "&"},
                                          {"GmbH", "Gmbh"},
                                          {"PLC", "Plc"},
                                          {"S.A.", "SA"},
                                          {"B.V.", "BV"}};

static void vary_words(rng *r, char *s) {
  uint32_t start = below(r, sizeof synonyms / sizeof *synonyms);
  for (uint32_t i = 0; i < sizeof synonyms / sizeof *synonyms; i++) {
    const char *const *pair =
        synonyms[(start + i) % (sizeof synonyms / sizeof *synonyms)];
    if (replace_word(s, pair[0], pair[1])) {
      return;
    }
  }
}

static void vary_punctuation(rng *r, char *s) {
  if (below(r, 2)) { /* drop full stops and commas */
    char *w = s;
    for (char *p = s; *p; p++) {
      if (*p != '.' && *p != ',') {
        *w++ = *p;
      }
    }
    *w = '\0';
  } else { /* or a comma before the last word */
    char *last = strrchr(s, ' ');
    if (last && last > s && last[-1] != ',' && strlen(s) + 1 < NAME_MAX_BYTES) {
      memmove(last + 1, last, strlen(last) + 1);
      *last = ',';
    }
  }
}

static void vary_case(rng *r, char *s) {
  int upper = below(r, 2);
  for (char *p = s; *p; p++) { /* ASCII letters: what old systems did */
    if (upper && *p >= 'a' && *p <= 'z') {
      *p = (char)(*p - 32);
    } else if (!upper && *p >= 'A' && *p <= 'Z') {
      *p = (char)(*p + 32);
    }
  }
}

static const char *const keyboard[26] = {
    "qsz",  "vghn", "xdfv", "sefx", "wrd",  "drgc", "fthv", "gyjb", "uok",
    "hukn", "jilm", "kop",  "njk",  "bhjm", "ipl",  "ol",   "wa",   "etf",
    "awdz", "ryg",  "yij",  "cfgb", "qes",  "zsdc", "tuh",  "asx"};

/* One typo in n code points (room for one more). Returns the new count. */
static size_t typo(rng *r, uint32_t *cps, size_t n) {
  if (n == 0) {
    return n;
  }
  size_t i = below(r, (uint32_t)n);
  switch (below(r, 4)) {
  case 0: { /* a neighbouring key */
    uint32_t c = cps[i] | 0x20;
    if (c >= 'a' && c <= 'z') {
      const char *near = keyboard[c - 'a'];
      uint32_t k = (uint32_t)near[below(r, (uint32_t)strlen(near))];
      cps[i] = (cps[i] >= 'A' && cps[i] <= 'Z') ? k - 32 : k;
    } else {
      cps[i] = 'a' + below(r, 26);
    }
    return n;
  }
  case 1: /* a letter dropped */
    memmove(cps + i, cps + i + 1, (n - i - 1) * sizeof *cps);
    return n - 1;
  case 2: /* a letter doubled */
    memmove(cps + i + 1, cps + i, (n - i) * sizeof *cps);
    return n + 1;
  default: /* two letters swapped */
    if (i + 1 < n) {
      uint32_t t = cps[i];
      cps[i] = cps[i + 1];
      cps[i + 1] = t;
    }
    return n;
  }
}

static size_t make_query(rng *r, const char *name, char *out) {
  char s[NAME_MAX_BYTES];
  snprintf(s, sizeof s, "%s", name);
  if (below(r, 100) < 25) {
    vary_words(r, s);
  }
  if (below(r, 100) < 30) {
    vary_punctuation(r, s);
  }
  if (below(r, 100) < 30) {
    vary_case(r, s);
  }
  uint32_t cps[NAME_MAX_BYTES + 8];
  size_t n = nm_utf8_decode(s, strlen(s), cps);
  uint32_t roll = below(r, 100);
  int typos = roll < 25 ? 0 : roll < 65 ? 1 : roll < 90 ? 2 : 3;
  for (int t = 0; t < typos; t++) {
    n = typo(r, cps, n);
  }
  size_t len = 0;
  for (size_t i = 0; i < n && len + 4 < NAME_MAX_BYTES; i++) {
    len += nm_utf8_encode(cps[i], out + len);
  }
  out[len] = '\0';
  return len;
}

/* ---- the program -------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f, "usage: gen_names [options] REFERENCE.csv QUERIES.csv\n"
             "Writes generated counterparty names: the same files for the same "
             "seed.\n"
             "  --seed N            random seed (default 1)\n"
             "  --refs N            reference names (default 500000)\n"
             "  --queries N         query names (default 1000)\n"
             "  --unrelated PERCENT queries not made from a reference name "
             "(default 10)\n"
             "  -h, --help          this text\n");
}

static int parse_count(const char *opt, const char *s, unsigned long long max,
                       unsigned long long *out) {
  char *end;
  errno = 0;
  unsigned long long v = s && *s != '-' ? strtoull(s, &end, 10) : 0;
  if (!s || *s == '-' || errno || *end || end == s || v > max) {
    fprintf(stderr,
            "gen_names: %s takes a whole number from 0 to %llu, got "
            "'%s'\n",
            opt, max, s ? s : "");
    return -1;
  }
  *out = v;
  return 0;
}

static FILE *open_out(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "gen_names: cannot write '%s': %s\n", path,
            strerror(errno));
  }
  return f;
}

int main(int argc, char **argv) {
  unsigned long long seed = 1, nrefs = 500000, nqueries = 1000, unrelated = 10;
  const char *paths[2];
  int npaths = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int rc = 0;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--seed")) {
      rc = parse_count(a, v, UINT64_MAX, &seed), i++;
    } else if (!strcmp(a, "--refs")) {
      rc = parse_count(a, v, 100000000, &nrefs), i++;
    } else if (!strcmp(a, "--queries")) {
      rc = parse_count(a, v, 100000000, &nqueries), i++;
    } else if (!strcmp(a, "--unrelated")) {
      rc = parse_count(a, v, 100, &unrelated), i++;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "gen_names: unknown option '%s' (try --help)\n", a);
      return 2;
    } else if (npaths < 2) {
      paths[npaths++] = a;
    } else {
      fprintf(stderr, "gen_names: too many files (try --help)\n");
      return 2;
    }
    if (rc != 0) {
      return 2;
    }
  }
  if (npaths != 2) {
    usage(stderr);
    return 2;
  }
  if (nrefs == 0 && unrelated < 100 && nqueries > 0) {
    fprintf(stderr, "gen_names: queries are made from reference names: "
                    "--refs 0 needs --unrelated 100\n");
    return 2;
  }
  FILE *ref = open_out(paths[0]);
  FILE *q = ref ? open_out(paths[1]) : NULL;
  if (!q) {
    if (ref) {
      fclose(ref);
    }
    return 2;
  }
  /* Names are kept as offsets into one buffer, to make queries from. */
  size_t cap = 1 << 20, used = 0;
  char *names = malloc(cap);
  size_t *start = malloc((nrefs + 1) * sizeof *start);
  int rc = names && start ? 0 : 1;
  /* Separate streams: the reference file does not depend on --queries. */
  rng r = {seed}, rq = {seed ^ 0x5DEECE66DULL};
  char name[NAME_MAX_BYTES];
  fputs("id,name,country\n", ref);
  for (unsigned long long i = 0; rc == 0 && i < nrefs; i++) {
    size_t len = make_name(&r, name);
    while (rc == 0 && used + len + 1 > cap) {
      char *grown = realloc(names, cap * 2);
      if (grown) {
        names = grown;
        cap *= 2;
      } else {
        rc = 1;
      }
    }
    if (rc != 0) {
      break;
    }
    memcpy(names + used, name, len + 1);
    start[i] = used;
    used += len + 1;
    fprintf(ref, "C%07llu,", i + 1);
    nm_csv_write_field(ref, name, len);
    fprintf(ref, ",%s\n", pick(&r, &gen_countries));
  }
  if (rc != 0) {
    fprintf(stderr, "gen_names: out of memory\n");
  }
  fputs("name,source_row\n", q);
  for (unsigned long long i = 0; rc == 0 && i < nqueries; i++) {
    char query[NAME_MAX_BYTES];
    size_t len;
    if (below(&rq, 100) < unrelated) {
      len = make_name(&rq, query);
      nm_csv_write_field(q, query, len);
      fputs(",\n", q);
    } else {
      uint32_t row = below(&rq, (uint32_t)nrefs);
      len = make_query(&rq, names + start[row], query);
      nm_csv_write_field(q, query, len);
      fprintf(q, ",%u\n", row + 1);
    }
  }
  free(names);
  free(start);
  if (fclose(ref) != 0 && rc == 0) {
    fprintf(stderr, "gen_names: writing '%s' failed\n", paths[0]);
    rc = 1;
  }
  if (fclose(q) != 0 && rc == 0) {
    fprintf(stderr, "gen_names: writing '%s' failed\n", paths[1]);
    rc = 1;
  }
  return rc;
}
