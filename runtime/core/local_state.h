/*
 * This user's local state folder: the one place that says where it is and
 * when it can be trusted. The CLI reaches the same rule through
 * manta_state_dir (docs/security.md).
 */
#ifndef MT_LOCAL_STATE_H
#define MT_LOCAL_STATE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mt_state_status {
  MT_STATE_OK = 0,
  MT_STATE_MISSING = 1,  /* does not exist (and was not to be created) */
  MT_STATE_UNTRUSTED = 2 /* exists but may not be trusted; why says why */
} mt_state_status;

/*
 * The state folder: $MANTA_STATE_DIR, else /tmp/manta-<uid>, into buf.
 * Trusted only if it is a directory (not a symlink), owned by this user and
 * writable by no one else. create: made 0700 when missing.
 */
mt_state_status mt_state_dir(char *buf, size_t size, bool create, char *why,
                             size_t why_size);

#endif

