/*
 * The state folder (pid files of `manta start`, the token a head made). Its
 * default name, /tmp/manta-<uid>, is predictable: another local user may
 * have made it first, or left a symlink there, to plant pid files that
 * `manta stop` would signal or to read the token. So it is checked every
 * time before it is trusted, never only when created.
 */
#include "local_state.h"
#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static mt_state_status untrusted(char *why, size_t size, const char *dir,
                                 const char *reason) {
  snprintf(why, size,
           "the state folder %s cannot be trusted: %s (remove it, or set "
           "MANTA_STATE_DIR to a folder of your own)",
           dir, reason);
  return MT_STATE_UNTRUSTED;
}

mt_state_status mt_state_dir(char *buf, size_t size, bool create, char *why,
                             size_t why_size) {
  const char *env = getenv("MANTA_STATE_DIR");
  int n = env && *env
              ? snprintf(buf, size, "%s", env)
              : snprintf(buf, size, "/tmp/manta-%u", (unsigned)getuid());
  if (n < 0 || (size_t)n >= size) {
    snprintf(why, why_size, "the state folder's name is too long");
    return MT_STATE_UNTRUSTED;
  }
  struct stat st;
  if (lstat(buf, &st) != 0) {
    if (errno != ENOENT) {
      snprintf(why, why_size, "cannot read the state folder %s: %s", buf,
               strerror(errno));
      return MT_STATE_UNTRUSTED;
    }
    if (!create) {
      return MT_STATE_MISSING;
    }
    /* EEXIST: someone made it just now; checked below like any other. */
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
      snprintf(why, why_size, "cannot create the state folder %s: %s", buf,
               strerror(errno));
      return MT_STATE_UNTRUSTED;
    }
    if (lstat(buf, &st) != 0) {
      snprintf(why, why_size, "cannot read the state folder %s: %s", buf,
               strerror(errno));
      return MT_STATE_UNTRUSTED;
    }
  }
  char reason[128];
  if (S_ISLNK(st.st_mode)) {
    return untrusted(why, why_size, buf, "it is a symbolic link");
  }
  if (!S_ISDIR(st.st_mode)) {
    return untrusted(why, why_size, buf, "it is not a directory");
  }
  if (st.st_uid != getuid()) {
    snprintf(reason, sizeof reason,
             "it is owned by uid %lu, not by this user (uid %lu)",
             (unsigned long)st.st_uid, (unsigned long)getuid());
    return untrusted(why, why_size, buf, reason);
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    snprintf(reason, sizeof reason,
             "its mode %04lo lets others write in it (want 0700)",
             (unsigned long)(st.st_mode & 07777));
    return untrusted(why, why_size, buf, reason);
  }
  return MT_STATE_OK;
}

manta_err manta_state_dir(char *buf, size_t size, manta_value **error) {
  if (error) {
    *error = NULL;
  }
  if (!buf || size == 0) {
    return MANTA_ERR_INVALID;
  }
  char why[1024];
  if (mt_state_dir(buf, size, true, why, sizeof why) != MT_STATE_OK) {
    if (error) {
      *error = mt_error_new(MANTA_ERR_INVALID, "state folder", "%s", why);
    }
    buf[0] = '\0';
    return MANTA_ERR_INVALID;
  }
  return MANTA_OK;
}
