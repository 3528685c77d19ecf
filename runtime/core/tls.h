/*
 * TLS files of a process: a certificate, its private key and the CA that
 * signs the cluster's certificates, read as PEM text from files named by
 * the options or MANTA_TLS_CERT, MANTA_TLS_KEY and MANTA_TLS_CA, and the
 * --insecure switch (docs/security.md, "TLS"). The transport gets the text,
 * not the paths: files are read and checked once, where they are named.
 */
#ifndef MT_TLS_H
#define MT_TLS_H

#include <stdbool.h>
#include <stddef.h>

/* PEM text, each malloc'd or NULL. cert and key come together. */
typedef struct mt_tls {
  char *cert; /* this process's certificate (chain) */
  char *key;  /* its private key */
  char *ca;   /* verifies peers; on a server, also demands client
                 certificates (mutual TLS) */
} mt_tls;

/* Largest PEM file read. */
#define MT_TLS_FILE_MAX (1024 * 1024)

/*
 * Reads the files (any path may be NULL, but not cert without key or the
 * other way round, and not all three): the certificate and the CA must
 * hold a PEM certificate, the key a PEM private key in a file only its
 * owner may read (the rule of token files). false with why on failure;
 * *out is then empty.
 */
bool mt_tls_load(const char *cert_path, const char *key_path,
                 const char *ca_path, mt_tls *out, char *why, size_t why_size);

/*
 * This process's TLS: a copy of given when it holds anything (the
 * options), else the files MANTA_TLS_CERT, MANTA_TLS_KEY and MANTA_TLS_CA
 * name, else none (all NULL: cleartext). false with why when a source
 * exists but is unusable.
 */
bool mt_tls_resolve(const mt_tls *given, mt_tls *out, char *why,
                    size_t why_size);

/* Whether any field is set. */
bool mt_tls_on(const mt_tls *t);

/* Frees the text (the key is overwritten first) and clears *t. */
void mt_tls_free(mt_tls *t);

/* Whether cleartext beyond loopback was allowed on purpose: given (the
 * options: 1 yes, 0 no, < 0 not said), else MANTA_INSECURE=1. */
bool mt_tls_insecure(int given);

#endif
