/*
 * This user's local state folder and the cluster token: the one place that
 * says where the folder is, when it can be trusted, what a valid token is
 * and where a process finds its cluster's token. The CLI reaches the same
 * rules through manta_state_dir and manta_token_from_file (docs/security.md).
 */
#ifndef MT_LOCAL_STATE_H
#define MT_LOCAL_STATE_H

#include <stdbool.h>
#include <stddef.h>

/* The token file a head writes in the state folder. */
#define MT_TOKEN_FILE_NAME "token"
/* Shortest and longest token accepted, in bytes. */
#define MT_TOKEN_MIN 16
#define MT_TOKEN_MAX 4096

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

/* Whether token is acceptable: MT_TOKEN_MIN..MT_TOKEN_MAX printable ASCII
 * bytes, not only spaces, no space at either end. */
bool mt_token_valid(const char *token, char *why, size_t why_size);

/*
 * Reads a file that only its owner may read or write (a token file, a TLS
 * private key): a regular file (a symlink is followed unless nofollow)
 * with no group or other permission bit, of at most max bytes. *out is
 * malloc'd and NUL-terminated, *len its length. what names the file in
 * messages ("the token file"). false with why on any failure.
 */
bool mt_private_file_read(const char *path, bool nofollow, const char *what,
                          size_t max, char **out, size_t *len, char *why,
                          size_t why_size);

/*
 * Whether the got_len bytes at got are exactly the token want, compared in
 * constant time (for a given want), so a wrong token's timing tells
 * nothing. Every server that checks the token (gRPC, HTTP) uses this one.
 */
bool mt_token_equal(const void *got, size_t got_len, const char *want);

/*
 * Reads a token file: a regular file no one but its owner may read or
 * write (a symlink is followed unless nofollow). One trailing newline is
 * allowed. *out is malloc'd. false with why on any failure.
 */
bool mt_token_read_file(const char *path, bool nofollow, char **out, char *why,
                        size_t why_size);

/* Where a cluster token came from. */
typedef enum mt_token_origin {
  MT_TOKEN_NONE = 0,  /* none found */
  MT_TOKEN_GIVEN = 1, /* the options, MANTA_TOKEN or MANTA_TOKEN_FILE */
  MT_TOKEN_LOCAL = 2  /* the state folder's: for this machine's own use */
} mt_token_origin;

/*
 * The cluster token of this process, from the first source that has one:
 * given (the options), MANTA_TOKEN, MANTA_TOKEN_FILE, the state folder's
 * token file. A head with none makes one there (32 random bytes, hex, mode
 * 0600) or takes the one another head of this user made. *out is NULL when
 * nothing was found (a joiner: the head will refuse it); *origin says
 * which kind of source it came from, source which one (or where none was
 * found). false with why when a source exists but is unusable.
 */
bool mt_token_resolve(const char *given, bool head, char **out,
                      mt_token_origin *origin, char *source, size_t source_size,
                      char *why, size_t why_size);

#endif
