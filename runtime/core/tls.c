/* Reading and checking a process's TLS files (tls.h). */
#include "tls.h"

#include "local_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A certificate or CA file: public, so any mode; it must hold PEM. */
static bool read_public(const char *path, const char *what, char **out,
                        char *why, size_t why_size) {
  FILE *f = fopen(path, "re");
  if (!f) {
    snprintf(why, why_size, "cannot open %s %s: %s", what, path,
             strerror(errno));
    return false;
  }
  char *buf = malloc(MT_TLS_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, MT_TLS_FILE_MAX + 1, f) : 0;
  bool err = ferror(f) != 0;
  fclose(f);
  if (!buf) {
    snprintf(why, why_size, "out of memory");
    return false;
  }
  if (err || n > MT_TLS_FILE_MAX) {
    snprintf(why, why_size, "cannot read %s %s: %s", what, path,
             err ? "read error" : "longer than 1 MiB");
    free(buf);
    return false;
  }
  buf[n] = '\0';
  *out = buf;
  return true;
}

/* PEM text holds its label, e.g. "-----BEGIN CERTIFICATE-----". */
static bool holds_pem(const char *text, const char *label_end) {
  const char *b = strstr(text, "-----BEGIN ");
  return b && strstr(b, label_end);
}

/* One PEM file into *out: a private key under the token file's rule,
 * certificates as they are; it must hold PEM of its kind. */
static bool read_pem(const char *path, bool key, char **out, char *why,
                     size_t why_size) {
  const char *what = key ? "the TLS key file" : "a TLS certificate file";
  size_t len;
  bool ok = key ? mt_private_file_read(path, false, what, MT_TLS_FILE_MAX, out,
                                       &len, why, why_size)
                : read_public(path, what, out, why, why_size);
  const char *label = key ? "PRIVATE KEY-----" : "CERTIFICATE-----";
  if (ok && !holds_pem(*out, label)) {
    snprintf(why, why_size, "%s %s holds no PEM %s (-----BEGIN %s)", what, path,
             key ? "private key" : "certificate", label);
    ok = false;
  }
  return ok;
}

bool mt_tls_load(const char *cert_path, const char *key_path,
                 const char *ca_path, mt_tls *out, char *why, size_t why_size) {
  memset(out, 0, sizeof *out);
  if (!cert_path != !key_path) {
    snprintf(why, why_size,
             "TLS needs a certificate and its private key together (%s "
             "given, %s not)",
             cert_path ? "the certificate" : "the key",
             cert_path ? "the key" : "the certificate");
    return false;
  }
  if (!cert_path && !ca_path) {
    snprintf(why, why_size, "no TLS file given");
    return false;
  }
  bool ok =
      !cert_path || (read_pem(cert_path, false, &out->cert, why, why_size) &&
                     read_pem(key_path, true, &out->key, why, why_size));
  ok = ok && (!ca_path || read_pem(ca_path, false, &out->ca, why, why_size));
  if (!ok) {
    mt_tls_free(out);
  }
  return ok;
}

bool mt_tls_on(const mt_tls *t) {
  return t && (t->cert || t->key || t->ca);
}

static bool copy_field(const char *from, char **to) {
  return !from || (*to = strdup(from)) != NULL;
}

bool mt_tls_resolve(const mt_tls *given, mt_tls *out, char *why,
                    size_t why_size) {
  memset(out, 0, sizeof *out);
  if (mt_tls_on(given)) {
    if (!copy_field(given->cert, &out->cert) ||
        !copy_field(given->key, &out->key) ||
        !copy_field(given->ca, &out->ca)) {
      mt_tls_free(out);
      snprintf(why, why_size, "out of memory");
      return false;
    }
    return true;
  }
  const char *cert = getenv("MANTA_TLS_CERT");
  const char *key = getenv("MANTA_TLS_KEY");
  const char *ca = getenv("MANTA_TLS_CA");
  cert = cert && *cert ? cert : NULL;
  key = key && *key ? key : NULL;
  ca = ca && *ca ? ca : NULL;
  if (!cert && !key && !ca) {
    return true; /* cleartext */
  }
  char reason[1200];
  if (!mt_tls_load(cert, key, ca, out, reason, sizeof reason)) {
    snprintf(why, why_size, "MANTA_TLS_CERT/KEY/CA: %s", reason);
    return false;
  }
  return true;
}

void mt_tls_free(mt_tls *t) {
  if (t->key) {
    memset(t->key, 0, strlen(t->key));
  }
  free(t->cert);
  free(t->key);
  free(t->ca);
  memset(t, 0, sizeof *t);
}

bool mt_tls_insecure(int given) {
  if (given >= 0) {
    return given != 0;
  }
  const char *env = getenv("MANTA_INSECURE");
  return env && strcmp(env, "1") == 0;
}
