/* The state folder, cluster tokens and TLS files (runtime/core/local_state.h,
 * tls.h): what is trusted, what is refused and why, and where a process
 * finds its token and its TLS files. */
#include "local_state.h"
#include "rt.h"
#include "test_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

/* A path under this test's private folder. */
static const char *at(const char *name) {
  static char buf[8][512];
  static int next;
  char *p = buf[next++ % 8];
  snprintf(p, 512, "%s/%s", root, name);
  return p;
}

static void write_file(const char *path, const char *text, mode_t mode) {
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  REQUIRE(chmod(path, mode) == 0);
}

static void clear_env(void) {
  unsetenv("MANTA_TOKEN");
  unsetenv("MANTA_TOKEN_FILE");
  unsetenv("MANTA_STATE_DIR");
}

static void test_token_valid(void) {
  char why[200];
  CHECK(mt_token_valid("0123456789abcdef", why, sizeof why));
  CHECK(mt_token_valid("a token with spaces inside", why, sizeof why));
  CHECK(!mt_token_valid("short", why, sizeof why));
  CHECK(strstr(why, "at least 16 bytes") != NULL);
  CHECK(!mt_token_valid("                ", why, sizeof why));
  CHECK(strstr(why, "only spaces") != NULL);
  CHECK(!mt_token_valid(" 0123456789abcdef", why, sizeof why));
  CHECK(strstr(why, "begin or end with a space") != NULL);
  CHECK(!mt_token_valid("0123456789abcdef\n", why, sizeof why));
  CHECK(strstr(why, "printable ASCII") != NULL);
  CHECK(!mt_token_valid("0123456789abcdef\t", why, sizeof why));
  char *big = malloc(MT_TOKEN_MAX + 2);
  memset(big, 'a', MT_TOKEN_MAX + 1);
  big[MT_TOKEN_MAX + 1] = '\0';
  CHECK(!mt_token_valid(big, why, sizeof why));
  big[MT_TOKEN_MAX] = '\0';
  CHECK(mt_token_valid(big, why, sizeof why));
  free(big);
}

static void test_token_file(void) {
  char why[1200], *t = NULL;
  write_file(at("tok"), "0123456789abcdef\n", 0600);
  CHECK(mt_token_read_file(at("tok"), false, &t, why, sizeof why));
  CHECK(t && strcmp(t, "0123456789abcdef") == 0);
  free(t);
  write_file(at("tok"), "0123456789abcdef", 0400);
  CHECK(mt_token_read_file(at("tok"), false, &t, why, sizeof why));
  free(t);
  /* Readable by the group or others: refused, saying how to fix it. */
  write_file(at("tok"), "0123456789abcdef\n", 0640);
  CHECK(!mt_token_read_file(at("tok"), false, &t, why, sizeof why));
  CHECK(t == NULL);
  CHECK(strstr(why, "mode 0640") && strstr(why, "chmod 600"));
  write_file(at("tok"), "0123456789abcdef\n", 0604);
  CHECK(!mt_token_read_file(at("tok"), false, &t, why, sizeof why));
  write_file(at("tok"), "short\n", 0600);
  CHECK(!mt_token_read_file(at("tok"), false, &t, why, sizeof why));
  CHECK(strstr(why, "at least 16 bytes") != NULL);
  write_file(at("tok"), "                    \n", 0600);
  CHECK(!mt_token_read_file(at("tok"), false, &t, why, sizeof why));
  CHECK(strstr(why, "only spaces") != NULL);
  CHECK(!mt_token_read_file(at("missing"), false, &t, why, sizeof why));
  CHECK(strstr(why, "cannot open") != NULL);
  CHECK(!mt_token_read_file(root, false, &t, why, sizeof why));
  /* A symlink is followed for a file the user names, not in the state
   * folder (nofollow). */
  write_file(at("tok"), "0123456789abcdef\n", 0600);
  unlink(at("toklink"));
  REQUIRE(symlink(at("tok"), at("toklink")) == 0);
  CHECK(mt_token_read_file(at("toklink"), false, &t, why, sizeof why));
  free(t);
  CHECK(!mt_token_read_file(at("toklink"), true, &t, why, sizeof why));
  CHECK(strstr(why, "symbolic link") != NULL);
}

static void test_state_dir(void) {
  char dir[512], why[1200];
  clear_env();
  setenv("MANTA_STATE_DIR", at("state"), 1);
  CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, false, why, sizeof why),
               MT_STATE_MISSING);
  CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, true, why, sizeof why),
               MT_STATE_OK);
  CHECK(strcmp(dir, at("state")) == 0);
  struct stat st;
  REQUIRE(stat(dir, &st) == 0);
  CHECK_INT_EQ(st.st_mode & 07777, 0700);
  /* Writable by others: refused, naming the folder and why. */
  REQUIRE(chmod(dir, 0777) == 0);
  CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, true, why, sizeof why),
               MT_STATE_UNTRUSTED);
  CHECK(strstr(why, at("state")) && strstr(why, "mode 0777"));
  REQUIRE(chmod(dir, 0720) == 0);
  CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, true, why, sizeof why),
               MT_STATE_UNTRUSTED);
  REQUIRE(chmod(dir, 0755) == 0); /* readable is fine: pid files are not */
  CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, true, why, sizeof why),
               MT_STATE_OK);
  unlink(at("statelink"));
  REQUIRE(symlink(at("state"), at("statelink")) == 0);
  setenv("MANTA_STATE_DIR", at("statelink"), 1);
  CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, true, why, sizeof why),
               MT_STATE_UNTRUSTED);
  CHECK(strstr(why, "symbolic link") != NULL);
  write_file(at("afile"), "x", 0600);
  setenv("MANTA_STATE_DIR", at("afile"), 1);
  CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, true, why, sizeof why),
               MT_STATE_UNTRUSTED);
  if (getuid() == 0) {
    mkdir(at("theirs"), 0700);
    REQUIRE(chown(at("theirs"), 65534, 65534) == 0);
    setenv("MANTA_STATE_DIR", at("theirs"), 1);
    CHECK_INT_EQ(mt_state_dir(dir, sizeof dir, true, why, sizeof why),
                 MT_STATE_UNTRUSTED);
    CHECK(strstr(why, "owned by uid 65534") != NULL);
  }
  /* The public face: an error value saying the same. */
  setenv("MANTA_STATE_DIR", at("statelink"), 1);
  manta_value *err = NULL;
  CHECK_ERR(manta_state_dir(dir, sizeof dir, &err), MANTA_ERR_INVALID);
  CHECK(err && strstr(manta_error_message(err), "symbolic link"));
  manta_value_free(err);
  setenv("MANTA_STATE_DIR", at("state"), 1);
  CHECK_OK(manta_state_dir(dir, sizeof dir, NULL));
  clear_env();
}

static void test_resolve(void) {
  char source[4400], why[4400], *t = NULL;
  mt_token_origin origin;
  clear_env();
  setenv("MANTA_STATE_DIR", at("resolve"), 1);
  /* A joiner with no token anywhere: none, and it says where it looked. */
  CHECK(mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                         sizeof why));
  CHECK(t == NULL);
  CHECK_INT_EQ(origin, MT_TOKEN_NONE);
  CHECK(strstr(source, "resolve/token") != NULL);
  /* A head makes one: 32 random bytes in hex, in a file only we read. */
  CHECK(mt_token_resolve(NULL, true, &t, &origin, source, sizeof source, why,
                         sizeof why));
  REQUIRE(t != NULL);
  CHECK_INT_EQ(origin, MT_TOKEN_LOCAL);
  CHECK_INT_EQ(strlen(t), 64);
  CHECK_INT_EQ(strspn(t, "0123456789abcdef"), 64);
  struct stat st;
  REQUIRE(stat(at("resolve/token"), &st) == 0);
  CHECK_INT_EQ(st.st_mode & 07777, 0600);
  char *made = t;
  /* A second head and a joiner of this user find the same one. */
  CHECK(mt_token_resolve(NULL, true, &t, &origin, source, sizeof source, why,
                         sizeof why));
  CHECK(t && strcmp(t, made) == 0);
  free(t);
  CHECK(mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                         sizeof why));
  CHECK(t && strcmp(t, made) == 0);
  free(t);
  /* Given tokens come first: the options, MANTA_TOKEN, MANTA_TOKEN_FILE. */
  write_file(at("envfile"), "from-the-env-file-0123\n", 0600);
  setenv("MANTA_TOKEN_FILE", at("envfile"), 1);
  CHECK(mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                         sizeof why));
  CHECK(t && strcmp(t, "from-the-env-file-0123") == 0);
  CHECK_INT_EQ(origin, MT_TOKEN_GIVEN);
  free(t);
  setenv("MANTA_TOKEN", "from-the-environment", 1);
  CHECK(mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                         sizeof why));
  CHECK(t && strcmp(t, "from-the-environment") == 0);
  free(t);
  CHECK(mt_token_resolve("from-the-options-0123", true, &t, &origin, source,
                         sizeof source, why, sizeof why));
  CHECK(t && strcmp(t, "from-the-options-0123") == 0);
  free(t);
  /* A bad source is an error, not a fall-through to the next. */
  setenv("MANTA_TOKEN", " ", 1);
  CHECK(!mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                          sizeof why));
  CHECK(strstr(why, "MANTA_TOKEN") != NULL);
  unsetenv("MANTA_TOKEN");
  REQUIRE(chmod(at("envfile"), 0644) == 0);
  CHECK(!mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                          sizeof why));
  CHECK(strstr(why, "MANTA_TOKEN_FILE") && strstr(why, "mode 0644"));
  unsetenv("MANTA_TOKEN_FILE");
  /* The state folder's token file opened to others is refused too. */
  REQUIRE(chmod(at("resolve/token"), 0644) == 0);
  CHECK(!mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                          sizeof why));
  CHECK(!mt_token_resolve(NULL, true, &t, &origin, source, sizeof source, why,
                          sizeof why));
  REQUIRE(chmod(at("resolve"), 0777) == 0);
  CHECK(!mt_token_resolve(NULL, false, &t, &origin, source, sizeof source, why,
                          sizeof why));
  CHECK(strstr(why, "cannot be trusted") != NULL);
  REQUIRE(chmod(at("resolve"), 0700) == 0);
  free(made);
  clear_env();
}

static void test_options(void) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  CHECK_ERR(manta_options_set_token(o, "short"), MANTA_ERR_INVALID);
  CHECK_ERR(manta_options_set_token(o, "                "), MANTA_ERR_INVALID);
  CHECK_OK(manta_options_set_token(o, "0123456789abcdef"));
  CHECK_OK(manta_options_set_token(o, NULL)); /* clears it */
  write_file(at("opt"), "0123456789abcdef\n", 0644);
  CHECK_ERR(manta_options_set_token_file(o, at("opt")), MANTA_ERR_INVALID);
  REQUIRE(chmod(at("opt"), 0600) == 0);
  CHECK_OK(manta_options_set_token_file(o, at("opt")));
  CHECK(o->token && strcmp(o->token, "0123456789abcdef") == 0);
  CHECK_ERR(manta_options_set_token_file(o, NULL), MANTA_ERR_INVALID);
  manta_options_free(o);
  char buf[64];
  manta_value *err = NULL;
  CHECK_OK(manta_token_from_file(at("opt"), buf, sizeof buf, &err));
  CHECK(strcmp(buf, "0123456789abcdef") == 0 && err == NULL);
  CHECK_ERR(manta_token_from_file(at("opt"), buf, 8, &err), MANTA_ERR_RANGE);
  manta_value_free(err);
  REQUIRE(chmod(at("opt"), 0640) == 0);
  CHECK_ERR(manta_token_from_file(at("opt"), buf, sizeof buf, &err),
            MANTA_ERR_INVALID);
  CHECK(err && strstr(manta_error_message(err), "mode 0640"));
  manta_value_free(err);
  /* A status call with a bad token says so without calling anyone. */
  manta_value *st = NULL;
  CHECK_ERR(manta_cluster_status("127.0.0.1:1", "short", 1000, &st),
            MANTA_ERR_INVALID);
  CHECK(st && strstr(manta_error_message(st), "at least 16 bytes"));
  manta_value_free(st);
}

#define PEM_CERT                                                               \
  "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
#define PEM_KEY "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"

/* TLS files: read once where named; the key under the token file's rule.
 * (The handshakes themselves: cluster_tls, with real certificates.) */
static void test_tls_files(void) {
  write_file(at("c.pem"), PEM_CERT, 0644);
  write_file(at("k.pem"), PEM_KEY, 0600);
  write_file(at("ca.pem"), PEM_CERT, 0644);
  mt_tls t;
  char why[1400];
  CHECK(
      mt_tls_load(at("c.pem"), at("k.pem"), at("ca.pem"), &t, why, sizeof why));
  CHECK(t.cert && t.key && t.ca && strstr(t.key, "PRIVATE KEY"));
  mt_tls_free(&t);
  CHECK(t.cert == NULL && t.key == NULL && t.ca == NULL);
  CHECK(mt_tls_load(NULL, NULL, at("ca.pem"), &t, why, sizeof why));
  CHECK(t.ca && !t.cert);
  mt_tls_free(&t);
  /* The key: no group or other bit, as for tokens. */
  REQUIRE(chmod(at("k.pem"), 0640) == 0);
  CHECK(!mt_tls_load(at("c.pem"), at("k.pem"), NULL, &t, why, sizeof why));
  CHECK(strstr(why, "mode 0640") && strstr(why, "chmod 600"));
  CHECK(!mt_tls_on(&t));
  REQUIRE(chmod(at("k.pem"), 0600) == 0);
  CHECK(!mt_tls_load(at("c.pem"), NULL, NULL, &t, why, sizeof why));
  CHECK(strstr(why, "together") != NULL);
  CHECK(!mt_tls_load(NULL, at("k.pem"), NULL, &t, why, sizeof why));
  CHECK(!mt_tls_load(at("k.pem"), at("k.pem"), NULL, &t, why, sizeof why));
  CHECK(strstr(why, "holds no PEM certificate") != NULL);
  write_file(at("notkey.pem"), PEM_CERT, 0600);
  CHECK(!mt_tls_load(at("c.pem"), at("notkey.pem"), NULL, &t, why, sizeof why));
  CHECK(strstr(why, "holds no PEM private key") != NULL);
  CHECK(
      !mt_tls_load(at("c.pem"), at("k.pem"), at("nope"), &t, why, sizeof why));
  CHECK(strstr(why, "cannot open a TLS certificate file") != NULL);
  /* Options first, then MANTA_TLS_*, else cleartext. */
  unsetenv("MANTA_TLS_CERT");
  unsetenv("MANTA_TLS_KEY");
  unsetenv("MANTA_TLS_CA");
  CHECK(mt_tls_resolve(NULL, &t, why, sizeof why) && !mt_tls_on(&t));
  setenv("MANTA_TLS_CA", at("ca.pem"), 1);
  CHECK(mt_tls_resolve(NULL, &t, why, sizeof why) && t.ca && !t.cert);
  mt_tls_free(&t);
  setenv("MANTA_TLS_CERT", at("c.pem"), 1);
  CHECK(!mt_tls_resolve(NULL, &t, why, sizeof why));
  CHECK(strstr(why, "MANTA_TLS_") && strstr(why, "together"));
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  CHECK_OK(manta_options_set_tls(o, at("c.pem"), at("k.pem"), NULL));
  CHECK(mt_tls_resolve(&o->tls, &t, why, sizeof why) && t.cert && !t.ca);
  mt_tls_free(&t);
  unsetenv("MANTA_TLS_CERT");
  unsetenv("MANTA_TLS_CA");
  REQUIRE(chmod(at("k.pem"), 0604) == 0);
  CHECK_ERR(manta_options_set_tls(o, at("c.pem"), at("k.pem"), NULL),
            MANTA_ERR_INVALID);
  CHECK(o->tls.cert != NULL); /* a failed setter changes nothing */
  CHECK_OK(manta_options_set_tls(o, NULL, NULL, NULL));
  CHECK(!mt_tls_on(&o->tls));
  /* --insecure: the options, else MANTA_INSECURE=1. */
  CHECK(o->insecure < 0);
  unsetenv("MANTA_INSECURE");
  CHECK(!mt_tls_insecure(o->insecure));
  setenv("MANTA_INSECURE", "1", 1);
  CHECK(mt_tls_insecure(o->insecure));
  CHECK_OK(manta_options_set_insecure(o, 0));
  CHECK(!mt_tls_insecure(o->insecure));
  unsetenv("MANTA_INSECURE");
  CHECK_OK(manta_options_set_insecure(o, 1));
  CHECK(mt_tls_insecure(o->insecure));
  manta_options_free(o);
}

int main(void) {
  snprintf(root, sizeof root, "/tmp/manta-test-state-XXXXXX");
  REQUIRE(mkdtemp(root) != NULL);
  RUN_TEST(test_token_valid);
  RUN_TEST(test_token_file);
  RUN_TEST(test_state_dir);
  RUN_TEST(test_resolve);
  RUN_TEST(test_options);
  RUN_TEST(test_tls_files);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  CHECK(system(cmd) == 0);
  return mt_test_done();
}
