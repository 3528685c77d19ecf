/* The head's store in Redis (docs/head-store.md), through hiredis: the only
 * file of the runtime that includes it. Each table is one Redis hash,
 * "manta:<cluster>:nodes", "...:actors", "...:pg", "...:routes", field = the
 * record's key, value = the packed message; every write is one MULTI/EXEC, so a
 * head that dies in the middle leaves either all of a change or none. */
#include "head_store.h"

#include <hiredis/hiredis.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deadlines of a connection and of each command: a store that hangs must
 * not hold the writer (and so the retries) for long. */
#define CONNECT_MS 1000
#define COMMAND_MS 2000

static const char *const table_names[MT_STORE_NTABLES] = {"nodes", "actors",
                                                          "pg", "routes"};

/* The lease (docs/head-store.md, "Two heads on one store"): key "lease"
 * holds "INCARNATION ADDRESS" with an expiry, "incarnation" counts the
 * takes. Taken when absent or when it holds the value the caller knows
 * to be a dead head's (the count raised, in one script), renewed
 * only by the incarnation holding it, and taken again by a head whose
 * lease expired only if no other head took it since (a store that lost
 * its keys, restarted empty, counts on from the head's number). */
static const char lease_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "local mine = tonumber(ARGV[1])\n"
    "if v and mine ~= 0 and tonumber(string.match(v, '^(%d+) ')) == mine "
    "then\n"
    "  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'PX', "
    "ARGV[3])\n"
    "  return {1, ARGV[1]}\n"
    "end\n"
    "if v and v ~= ARGV[4] then\n"
    "  return {0, v}\n"
    "end\n"
    "local cur = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "if cur > mine and mine ~= 0 then\n"
    "  return {0, 'incarnation ' .. cur .. ', whose lease expired since'}\n"
    "end\n"
    "local n = math.max(cur, mine) + 1\n"
    "redis.call('SET', KEYS[2], n)\n"
    "redis.call('SET', KEYS[1], n .. ' ' .. ARGV[2], 'PX', ARGV[3])\n"
    "return {1, tostring(n)}\n";

/* A batch written only while the lease is the writer's (KEYS: lease, then
 * the tables; ARGV: incarnation, replace_all, then per record "S<t>" or
 * "D<t>", field, value). A script runs whole or not at all, as MULTI/EXEC. */
static const char write_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v or tonumber(string.match(v, '^(%d+) ')) ~= "
    "tonumber(ARGV[1]) then\n"
    "  return redis.error_reply('FENCED: the lease is ' .. (v or 'not "
    "held') .. ', not incarnation ' .. ARGV[1])\n"
    "end\n"
    "if ARGV[2] == '1' then redis.call('DEL', KEYS[2], KEYS[3], KEYS[4]) "
    "end\n"
    "for i = 3, #ARGV, 3 do\n"
    "  local k = KEYS[tonumber(string.sub(ARGV[i], 2)) + 2]\n"
    "  if string.sub(ARGV[i], 1, 1) == 'S' then\n"
    "    redis.call('HSET', k, ARGV[i + 1], ARGV[i + 2])\n"
    "  else\n"
    "    redis.call('HDEL', k, ARGV[i + 1])\n"
    "  end\n"
    "end\n"
    "return 1\n";

typedef struct redis_conn {
  char host[256];
  int port;
  int db;
  char *password;
  char keys[MT_STORE_NTABLES][160]; /* prefix + table name */
  char lease_key[160], incarnation_key[160];
  int64_t incarnation; /* the lease held; 0: none, writes not fenced */
  redisContext *c;
} redis_conn;

static void *redis_parse(const char *url, const char *prefix,
                         const char *password, char *shown, size_t shown_size,
                         char *why, size_t size) {
  if (strncmp(url, "redis://", 8) != 0) {
    snprintf(why, size, "store URL '%.200s': expected redis://host:port[/db]",
             url);
    return NULL;
  }
  const char *p = url + 8;
  if (strchr(p, '@')) {
    snprintf(why, size,
             "store URL: a password in the URL would show in ps and logs; "
             "give it in a file (MANTA_STORE_PASSWORD_FILE, "
             "--store-password-file) or MANTA_STORE_PASSWORD, and the URL as "
             "redis://host:port[/db]");
    return NULL;
  }
  redis_conn *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(why, size, "out of memory");
    return NULL;
  }
  r->port = 6379;
  const char *host_end;
  if (*p == '[') { /* [v6 address] */
    host_end = strchr(p, ']');
    if (!host_end) {
      goto bad;
    }
    snprintf(r->host, sizeof r->host, "%.*s", (int)(host_end - p - 1), p + 1);
    host_end++;
  } else {
    host_end = p + strcspn(p, ":/");
    snprintf(r->host, sizeof r->host, "%.*s", (int)(host_end - p), p);
  }
  if (!r->host[0] || host_end - p >= (long)sizeof r->host) {
    goto bad;
  }
  p = host_end;
  if (*p == ':') {
    char *end;
    long port = strtol(p + 1, &end, 10);
    if (end == p + 1 || port < 1 || port > 65535) {
      goto bad;
    }
    r->port = (int)port;
    p = end;
  }
  if (*p == '/' && p[1]) {
    char *end;
    long db = strtol(p + 1, &end, 10);
    if (end == p + 1 || *end || db < 0 || db > 100000) {
      goto bad;
    }
    r->db = (int)db;
    p = end;
  } else if (*p == '/') {
    p++;
  }
  if (*p) {
    goto bad;
  }
  if (password && !(r->password = strdup(password))) {
    free(r);
    snprintf(why, size, "out of memory");
    return NULL;
  }
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    snprintf(r->keys[t], sizeof r->keys[t], "%s%s", prefix, table_names[t]);
  }
  snprintf(r->lease_key, sizeof r->lease_key, "%slease", prefix);
  snprintf(r->incarnation_key, sizeof r->incarnation_key, "%sincarnation",
           prefix);
  bool v6 = strchr(r->host, ':') != NULL;
  snprintf(shown, shown_size, "redis://%s%s%s:%d/%d", v6 ? "[" : "", r->host,
           v6 ? "]" : "", r->port, r->db);
  return r;
bad:
  snprintf(why, size,
           "store URL '%.200s': expected redis://host:port[/db] (port 1 to "
           "65535, db a number)",
           url);
  free(r);
  return NULL;
}

static void drop_conn(redis_conn *r) {
  if (r->c) {
    redisFree(r->c);
    r->c = NULL;
  }
}

/* Runs one command; the reply (free with freeReplyObject) or NULL with why
 * (the connection is then dropped). */
static redisReply *command(redis_conn *r, int argc, const char **argv,
                           const size_t *lens, char *why, size_t size) {
  redisReply *reply = redisCommandArgv(r->c, argc, argv, lens);
  if (!reply) {
    snprintf(why, size, "%s", r->c->errstr[0] ? r->c->errstr : "no reply");
    drop_conn(r);
    return NULL;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    snprintf(why, size, "%s: %.200s", argv[0], reply->str);
    freeReplyObject(reply);
    drop_conn(r);
    return NULL;
  }
  return reply;
}

static bool redis_connect(void *conn, char *why, size_t size) {
  redis_conn *r = conn;
  drop_conn(r);
  struct timeval tv = {CONNECT_MS / 1000, (CONNECT_MS % 1000) * 1000};
  r->c = redisConnectWithTimeout(r->host, r->port, tv);
  if (!r->c || r->c->err) {
    snprintf(why, size, "cannot connect to %s:%d: %s", r->host, r->port,
             r->c ? r->c->errstr : "out of memory");
    drop_conn(r);
    return false;
  }
  struct timeval cmd = {COMMAND_MS / 1000, (COMMAND_MS % 1000) * 1000};
  redisSetTimeout(r->c, cmd);
  redisReply *reply;
  if (r->password) {
    const char *argv[] = {"AUTH", r->password};
    size_t lens[] = {4, strlen(r->password)};
    if (!(reply = command(r, 2, argv, lens, why, size))) {
      return false;
    }
    freeReplyObject(reply);
  }
  char db[16];
  snprintf(db, sizeof db, "%d", r->db);
  const char *argv[] = {r->db ? "SELECT" : "PING", db};
  size_t lens[] = {strlen(argv[0]), strlen(db)};
  if (!(reply = command(r, r->db ? 2 : 1, argv, lens, why, size))) {
    return false;
  }
  freeReplyObject(reply);
  return true;
}

static bool redis_load(void *conn,
                       void (*fn)(void *ctx, int table, const char *key,
                                  const uint8_t *data, size_t len),
                       void *ctx, char *why, size_t size) {
  redis_conn *r = conn;
  if (!r->c && !redis_connect(r, why, size)) {
    return false;
  }
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    const char *argv[] = {"HGETALL", r->keys[t]};
    size_t lens[] = {7, strlen(r->keys[t])};
    redisReply *reply = command(r, 2, argv, lens, why, size);
    if (!reply) {
      return false;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
      snprintf(why, size, "%s is not a hash (another program's key?)",
               r->keys[t]);
      freeReplyObject(reply);
      return false;
    }
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
      redisReply *k = reply->element[i], *v = reply->element[i + 1];
      if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING) {
        fn(ctx, t, k->str, (const uint8_t *)v->str, v->len);
      }
    }
    freeReplyObject(reply);
  }
  return true;
}

/* Appends one command to the pipeline. */
static void append(redis_conn *r, int argc, const char **argv,
                   const size_t *lens, size_t *queued) {
  if (redisAppendCommandArgv(r->c, argc, argv, lens) == REDIS_OK) {
    (*queued)++;
  }
}

static int redis_lease(void *conn, int64_t *incarnation, const char *address,
                       const char *stale, int64_t ttl_ms, char *holder,
                       size_t holder_size, char *why, size_t size) {
  redis_conn *r = conn;
  if (!r->c && !redis_connect(r, why, size)) {
    return -1;
  }
  char mine[24], ttl[24];
  snprintf(mine, sizeof mine, "%lld", (long long)*incarnation);
  snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
  const char *argv[] = {
      "EVAL", lease_script, "2", r->lease_key,      r->incarnation_key,
      mine,   address,      ttl, stale ? stale : ""};
  size_t lens[9];
  for (int i = 0; i < 9; i++) {
    lens[i] = strlen(argv[i]);
  }
  redisReply *reply = command(r, 9, argv, lens, why, size);
  if (!reply) {
    return -1;
  }
  int held = -1;
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
      reply->element[0]->type == REDIS_REPLY_INTEGER &&
      reply->element[1]->type == REDIS_REPLY_STRING) {
    held = reply->element[0]->integer == 1;
    if (held) {
      *incarnation = strtoll(reply->element[1]->str, NULL, 10);
      r->incarnation = *incarnation;
    } else {
      snprintf(holder, holder_size, "%.*s", (int)reply->element[1]->len,
               reply->element[1]->str);
      /* r->incarnation stays: writes go on failing, fenced. */
    }
  } else {
    snprintf(why, size, "unexpected reply to the lease script");
  }
  freeReplyObject(reply);
  return held;
}

/* A batch through write_script: fenced by the lease held. */
static bool write_fenced(redis_conn *r, const mt_store_record *rec, size_t n,
                         bool replace_all, char *why, size_t size) {
  size_t argc = 3 + 1 + MT_STORE_NTABLES + 2 + 3 * n;
  const char **argv = calloc(argc, sizeof *argv);
  size_t *lens = calloc(argc, sizeof *lens);
  char(*ops)[4] = calloc(n + 1, sizeof *ops);
  if (!argv || !lens || !ops) {
    free(argv);
    free(lens);
    free(ops);
    snprintf(why, size, "out of memory writing %zu records", n);
    return false;
  }
  char keys[8], mine[24];
  snprintf(keys, sizeof keys, "%d", 1 + MT_STORE_NTABLES);
  snprintf(mine, sizeof mine, "%lld", (long long)r->incarnation);
  size_t k = 0;
  argv[k++] = "EVAL";
  argv[k++] = write_script;
  argv[k++] = keys;
  argv[k++] = r->lease_key;
  for (int t = 0; t < MT_STORE_NTABLES; t++) {
    argv[k++] = r->keys[t];
  }
  argv[k++] = mine;
  argv[k++] = replace_all ? "1" : "0";
  for (size_t i = 0; i < k; i++) {
    lens[i] = strlen(argv[i]);
  }
  for (size_t i = 0; i < n; i++) {
    snprintf(ops[i], sizeof ops[i], "%c%d", rec[i].data ? 'S' : 'D',
             rec[i].table);
    argv[k] = ops[i];
    lens[k++] = strlen(ops[i]);
    argv[k] = rec[i].key;
    lens[k++] = strlen(rec[i].key);
    argv[k] = rec[i].data ? (const char *)rec[i].data : "";
    lens[k++] = rec[i].data ? rec[i].len : 0;
  }
  redisReply *reply = command(r, (int)k, argv, lens, why, size);
  free(argv);
  free(lens);
  free(ops);
  if (!reply) {
    return false;
  }
  freeReplyObject(reply);
  return true;
}

static bool redis_write(void *conn, const mt_store_record *rec, size_t n,
                        bool replace_all, char *why, size_t size) {
  redis_conn *r = conn;
  if (!r->c && !redis_connect(r, why, size)) {
    return false;
  }
  if (r->incarnation) {
    return write_fenced(r, rec, n, replace_all, why, size);
  }
  size_t queued = 0, expected = 2 + n + (replace_all ? 1 : 0);
  const char *multi[] = {"MULTI"};
  size_t multi_len[] = {5};
  append(r, 1, multi, multi_len, &queued);
  if (replace_all) {
    const char *argv[] = {"DEL", r->keys[0], r->keys[1], r->keys[2]};
    size_t lens[] = {3, strlen(r->keys[0]), strlen(r->keys[1]),
                     strlen(r->keys[2])};
    append(r, 4, argv, lens, &queued);
  }
  for (size_t i = 0; i < n; i++) {
    const char *key = r->keys[rec[i].table];
    const char *argv[] = {rec[i].data ? "HSET" : "HDEL", key, rec[i].key,
                          (const char *)rec[i].data};
    size_t lens[] = {4, strlen(key), strlen(rec[i].key), rec[i].len};
    append(r, rec[i].data ? 4 : 3, argv, lens, &queued);
  }
  const char *exec[] = {"EXEC"};
  size_t exec_len[] = {4};
  append(r, 1, exec, exec_len, &queued);
  if (queued != expected) {
    snprintf(why, size, "out of memory queueing %zu commands", expected);
    drop_conn(r);
    return false;
  }
  bool ok = true;
  why[0] = '\0';
  for (size_t i = 0; i < queued; i++) {
    void *p = NULL;
    if (redisGetReply(r->c, &p) != REDIS_OK || !p) {
      snprintf(why, size, "%s", r->c->errstr[0] ? r->c->errstr : "no reply");
      drop_conn(r);
      return false;
    }
    redisReply *reply = p;
    if (reply->type == REDIS_REPLY_ERROR && ok) {
      snprintf(why, size, "%.200s", reply->str);
      ok = false;
    }
    if (i == queued - 1 && reply->type != REDIS_REPLY_ARRAY && ok) {
      snprintf(why, size, "the transaction was not run");
      ok = false;
    }
    freeReplyObject(reply);
  }
  if (!ok) {
    drop_conn(r);
  }
  return ok;
}

static void redis_close(void *conn) {
  redis_conn *r = conn;
  if (!r) {
    return;
  }
  drop_conn(r);
  if (r->password) {
    memset(r->password, 0, strlen(r->password));
    free(r->password);
  }
  free(r);
}

const mt_store_backend mt_store_redis = {"redis",    redis_parse, redis_connect,
                                         redis_load, redis_write, redis_close,
                                         redis_lease};
