/*
 * Cluster tokens: what a valid one is, reading one from a file, and where a
 * process finds its cluster's token when it was given none. Every cluster
 * has a token, even on loopback: other users of the same machine reach
 * loopback ports too (docs/security.md).
 */
#include "local_state.h"
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

bool mt_token_valid(const char *token, char *why, size_t why_size) {
  size_t n = strlen(token);
  if (n < MT_TOKEN_MIN) {
    snprintf(why, why_size,
             "a cluster token needs at least %d bytes (this one has %zu)",
             MT_TOKEN_MIN, n);
    return false;
  }
  if (n > MT_TOKEN_MAX) {
    snprintf(why, why_size, "a cluster token has at most %d bytes",
             MT_TOKEN_MAX);
    return false;
  }
  /* It travels as a gRPC metadata value: printable ASCII only, and gRPC
   * may trim spaces at either end, which would change it. */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)token[i];
    if (c < 0x20 || c > 0x7e) {
      snprintf(why, why_size,
               "a cluster token holds printable ASCII only (byte %zu is "
               "0x%02x)",
               i, c);
      return false;
    }
  }
  if (token[0] == ' ' || token[n - 1] == ' ') {
    snprintf(why, why_size, "a cluster token may not %s",
             strspn(token, " ") == n ? "be only spaces"
                                     : "begin or end with a space");
    return false;
  }
  return true;
}

bool mt_token_equal(const void *got, size_t got_len, const char *want) {
  size_t n = strlen(want);
  const unsigned char *g = got;
  unsigned diff = (unsigned)(n ^ got_len);
  for (size_t i = 0; i < n; i++) {
    diff |= (unsigned)((unsigned char)want[i] ^ (i < got_len ? g[i] : 0));
  }
  return diff == 0;
}

bool mt_private_file_read(const char *path, bool nofollow, const char *what,
                          size_t max, char **out, size_t *len, char *why,
                          size_t why_size) {
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0) {
    snprintf(why, why_size, "cannot open %s %s: %s", what, path,
             errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    return false;
  }
  /* Checked on the open file, so a swap after the check changes nothing. */
  struct stat st;
  char *buf = NULL;
  size_t n = 0;
  if (fstat(fd, &st) != 0) {
    snprintf(why, why_size, "cannot read %s %s: %s", what, path,
             strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    snprintf(why, why_size, "%s %s is not a regular file", what, path);
  } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    snprintf(why, why_size,
             "%s %s has mode %04lo: other users may read or change it "
             "(chmod 600 %s)",
             what, path, (unsigned long)(st.st_mode & 07777), path);
  } else if (!(buf = malloc(max + 2))) {
    snprintf(why, why_size, "out of memory");
  } else {
    /* One byte more than allowed: a longer file is seen, not cut. */
    ssize_t got = 1;
    while (n < max + 1 && (got = read(fd, buf + n, max + 1 - n)) != 0) {
      if (got < 0 && errno != EINTR) {
        break;
      }
      n += got > 0 ? (size_t)got : 0;
    }
    buf[n] = '\0';
    if (got < 0) {
      snprintf(why, why_size, "cannot read %s %s: %s", what, path,
               strerror(errno));
    } else if (n > max) {
      snprintf(why, why_size, "%s %s is longer than %zu bytes", what, path,
               max);
    } else {
      *out = buf;
      *len = n;
      buf = NULL;
    }
  }
  close(fd);
  if (buf) {
    memset(buf, 0, n);
    free(buf);
  }
  return *out != NULL;
}

bool mt_token_read_file(const char *path, bool nofollow, char **out, char *why,
                        size_t why_size) {
  *out = NULL;
  char *buf;
  size_t len;
  /* The token, a newline and a carriage return at most; more is refused
   * below as too long. */
  if (!mt_private_file_read(path, nofollow, "the token file", MT_TOKEN_MAX + 2,
                            &buf, &len, why, why_size)) {
    return false;
  }
  /* echo/printf writes one trailing newline; it is not part of it. */
  if (len > 0 && buf[len - 1] == '\n') {
    buf[--len] = '\0';
    if (len > 0 && buf[len - 1] == '\r') {
      buf[--len] = '\0';
    }
  }
  char reason[200];
  if (strlen(buf) != len) {
    snprintf(why, why_size, "the token file %s holds a NUL byte", path);
  } else if (!mt_token_valid(buf, reason, sizeof reason)) {
    snprintf(why, why_size, "the token file %s: %s", path, reason);
  } else {
    *out = buf;
    return true;
  }
  memset(buf, 0, len);
  free(buf);
  return false;
}

/*
 * A head's new token in dir: written to a private temporary file, then
 * linked to its name, so a reader never sees half a token and of two
 * heads starting at once, one token wins and both use it.
 */
static bool make_head_token(const char *dir, const char *path, char **out,
                            char *why, size_t why_size) {
  uint8_t raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0 && errno != EINTR) {
      snprintf(why, why_size, "getrandom: %s", strerror(errno));
      return false;
    }
    got += n > 0 ? (size_t)n : 0;
  }
  char hex[2 * sizeof raw + 2];
  for (size_t i = 0; i < sizeof raw; i++) {
    snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  }
  memset(raw, 0, sizeof raw);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s/.token-XXXXXX", dir);
  int fd = mkstemp(tmp); /* mode 0600 */
  if (fd < 0) {
    snprintf(why, why_size, "cannot write a token file in %s: %s", dir,
             strerror(errno));
    return false;
  }
  size_t n = strlen(hex);
  hex[n] = '\n';
  bool written = write(fd, hex, n + 1) == (ssize_t)(n + 1);
  hex[n] = '\0';
  written = fsync(fd) == 0 && written;
  close(fd);
  int linked = written ? link(tmp, path) : -1;
  int link_errno = errno;
  unlink(tmp);
  if (!written || (linked != 0 && link_errno != EEXIST)) {
    snprintf(why, why_size, "cannot write the token file %s: %s", path,
             strerror(written ? link_errno : EIO));
    memset(hex, 0, sizeof hex);
    return false;
  }
  memset(hex, 0, sizeof hex);
  if (linked != 0) {
    /* Another head of this user was first: its token is the one. */
    return mt_token_read_file(path, true, out, why, why_size);
  }
  mt_log(MT_LOG_INFO, "cluster: made a cluster token in %s", path);
  return mt_token_read_file(path, true, out, why, why_size);
}

/* A token given as a string: checked, then copied into *out. */
static bool take_token(const char *token, const char *label, char **out,
                       char *why, size_t why_size) {
  char reason[200];
  if (!mt_token_valid(token, reason, sizeof reason)) {
    snprintf(why, why_size, "%s%s", label, reason);
    return false;
  }
  if (!(*out = strdup(token))) {
    snprintf(why, why_size, "out of memory");
    return false;
  }
  return true;
}

bool mt_token_resolve(const char *given, bool head, char **out,
                      mt_token_origin *origin, char *source, size_t source_size,
                      char *why, size_t why_size) {
  *out = NULL;
  *origin = MT_TOKEN_GIVEN;
  char reason[1200];
  if (given && *given) {
    snprintf(source, source_size, "the options");
    return take_token(given, "", out, why, why_size);
  }
  const char *env = getenv("MANTA_TOKEN");
  if (env && *env) {
    snprintf(source, source_size, "MANTA_TOKEN");
    return take_token(env, "MANTA_TOKEN: ", out, why, why_size);
  }
  const char *file = getenv("MANTA_TOKEN_FILE");
  if (file && *file) {
    snprintf(source, source_size, "MANTA_TOKEN_FILE (%s)", file);
    if (!mt_token_read_file(file, false, out, reason, sizeof reason)) {
      snprintf(why, why_size, "MANTA_TOKEN_FILE: %s", reason);
      return false;
    }
    return true;
  }
  *origin = MT_TOKEN_LOCAL;
  char dir[4096], path[4200];
  mt_state_status st = mt_state_dir(dir, sizeof dir, head, why, why_size);
  if (st == MT_STATE_UNTRUSTED) {
    return false;
  }
  snprintf(path, sizeof path, "%s/%s", dir, MT_TOKEN_FILE_NAME);
  snprintf(source, source_size, "%s", path);
  struct stat lst;
  if (st == MT_STATE_MISSING || (lstat(path, &lst) != 0 && errno == ENOENT)) {
    if (head && st == MT_STATE_OK) {
      return make_head_token(dir, path, out, why, why_size);
    }
    *origin = MT_TOKEN_NONE; /* a joiner tries without, and is told why */
    return true;
  }
  return mt_token_read_file(path, true, out, why, why_size);
}

manta_err manta_token_from_file(const char *path, char *buf, size_t size,
                                manta_value **error) {
  if (error) {
    *error = NULL;
  }
  if (!path || !buf || size == 0) {
    return MANTA_ERR_INVALID;
  }
  char why[1200], *token = NULL;
  manta_err err = MANTA_OK;
  if (!mt_token_read_file(path, false, &token, why, sizeof why)) {
    err = MANTA_ERR_INVALID;
  } else if (strlen(token) >= size) {
    snprintf(why, sizeof why, "the token in %s is longer than the buffer",
             path);
    err = MANTA_ERR_RANGE;
  } else {
    memcpy(buf, token, strlen(token) + 1);
  }
  if (token) {
    memset(token, 0, strlen(token));
    free(token);
  }
  if (err != MANTA_OK) {
    buf[0] = '\0';
    if (error) {
      *error = mt_error_new(err, "token file", "%s", why);
    }
  }
  return err;
}
