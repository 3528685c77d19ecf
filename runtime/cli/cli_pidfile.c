/* Pid files of nodes, checked against their process (cli_pidfile.h). */
#include "cli_pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Field 22 of /proc/PID/stat: when the process started. 0 if unknown. */
/* The fields of /proc/PID/stat after the name, from field 3 (the state)
 * on, into buf; NULL if the process is gone. Field 2, the name, is in
 * parentheses and may hold spaces and ')': the fields after it start
 * after the last ')'. */
static const char *stat_fields(int pid, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) {
    return NULL;
  }
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p + 2 : NULL;
}

static unsigned long long start_time(int pid) {
  char buf[1024];
  const char *p = stat_fields(pid, buf, sizeof buf);
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    p = p ? p + 1 : NULL;
  }
  return p ? strtoull(p, NULL, 10) : 0;
}

bool cli_pid_running(int pid) {
  if (kill(pid, 0) != 0 && errno != EPERM) {
    return false;
  }
  /* A zombie has stopped: it only waits for its parent (often init, which
   * may reap it seconds later) to collect its status. */
  char buf[1024];
  const char *state = stat_fields(pid, buf, sizeof buf);
  return state && *state != 'Z' && *state != 'X';
}

/* The program a process runs, from /proc/PID/exe, into buf. */
static bool exe_of(const char *proc, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/exe", proc);
  ssize_t n = readlink(path, buf, size - 1);
  if (n < 0) {
    return false;
  }
  buf[n] = '\0';
  /* A node whose program was rebuilt under it still is that node. */
  char *deleted = strstr(buf, " (deleted)");
  if (deleted && deleted[10] == '\0') {
    *deleted = '\0';
  }
  return true;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Whether the JVM pid runs manta.Node (its command line names the class). */
static bool jvm_runs_node(int pid) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  FILE *f = fopen(path, "re");
  if (!f) {
    return false;
  }
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  for (size_t i = 0; i < n;) {
    size_t len = strnlen(buf + i, n - i);
    if (len == strlen("manta.Node") &&
        memcmp(buf + i, "manta.Node", len) == 0) {
      return true;
    }
    i += len + 1;
  }
  return false;
}

bool cli_pidfile_write(const char *path, const char *address) {
  unlink(path); /* left by an earlier process that had this pid */
  int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return false;
  }
  int pid = (int)getpid();
  int ok = dprintf(fd, "%d %s %llu\n", pid, address, start_time(pid)) > 0;
  return close(fd) == 0 && ok;
}

bool cli_pidfile_check(const char *path, cli_pidfile *out, char *why,
                       size_t why_size) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "re");
  if (!f) {
    snprintf(why, why_size, "cannot read it: %s", strerror(errno));
    return false;
  }
  int fields = fscanf(f, "%d %127s %llu", &out->pid, out->address, &out->start);
  fclose(f);
  if (fields != 3 || out->pid <= 0 || out->start == 0) {
    snprintf(why, why_size, "it is not a pid file of this version of manta");
    return false;
  }
  if (kill(out->pid, 0) != 0 && errno == ESRCH) {
    snprintf(why, why_size, "process %d is gone", out->pid);
    return false;
  }
  char proc[32];
  snprintf(proc, sizeof proc, "%d", out->pid);
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d", out->pid);
  struct stat st;
  if (stat(dir, &st) != 0 || st.st_uid != getuid()) {
    snprintf(why, why_size, "process %d belongs to another user", out->pid);
    return false;
  }
  /* The pid was reused by a process started later. */
  if (start_time(out->pid) != out->start) {
    snprintf(why, why_size,
             "process %d is not the node that wrote the file (it started at "
             "another time)",
             out->pid);
    return false;
  }
  char exe[4096], self[4096];
  if (!exe_of(proc, exe, sizeof exe)) {
    snprintf(why, why_size, "cannot tell what process %d runs", out->pid);
    return false;
  }
  bool manta =
      (exe_of("self", self, sizeof self) && strcmp(exe, self) == 0) ||
      strcmp(base_name(exe), "manta") == 0 ||
      (strncmp(base_name(exe), "java", 4) == 0 && jvm_runs_node(out->pid));
  if (!manta) {
    snprintf(why, why_size, "process %d runs %s, not a manta node", out->pid,
             exe);
    return false;
  }
  return true;
}
