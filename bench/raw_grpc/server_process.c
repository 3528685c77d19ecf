/*
 * Starts raw_grpc_server as a child with pipes on its stdin and stdout, reads
 * the port it prints, and stops it: first by closing its stdin (a clean
 * shutdown), then by signals if it does not go.
 */
#include "server_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits up to `seconds` for the child to exit; 1 if reaped. */
static int reap_within(server_process *sp, double seconds, int *status) {
  double end = now_s() + seconds;
  for (;;) {
    pid_t r = waitpid(sp->pid, status, WNOHANG);
    if (r == sp->pid || (r < 0 && errno == ECHILD)) {
      return 1;
    }
    if (now_s() >= end) {
      return 0;
    }
    struct timespec nap = {0, 5 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
}

static void close_fd(int *fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

/* Reads one line the child prints, waiting until `end` at most. */
static int read_line(server_process *sp, char *line, size_t size, double end,
                     char *err, size_t errlen) {
  size_t len = 0;
  while (len + 1 < size) {
    int wait_ms = (int)((end - now_s()) * 1000);
    if (wait_ms <= 0) {
      snprintf(err, errlen, "the server printed no port within 10 s");
      return -1;
    }
    struct pollfd pfd = {sp->stdout_fd, POLLIN, 0};
    if (poll(&pfd, 1, wait_ms) <= 0) {
      continue;
    }
    ssize_t r = read(sp->stdout_fd, line + len, 1);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      snprintf(err, errlen, "the server exited before printing its port");
      return -1;
    }
    if (line[len] == '\n') {
      line[len] = '\0';
      return 0;
    }
    len++;
  }
  snprintf(err, errlen, "the server printed a line too long to be its port");
  return -1;
}

/* The child's first lines: "port N", then "pollers N". */
static int read_port(server_process *sp, char *err, size_t errlen) {
  char line[128];
  char extra;
  double end = now_s() + 10.0;
  if (read_line(sp, line, sizeof line, end, err, errlen) != 0) {
    return -1;
  }
  if (sscanf(line, "port %d%c", &sp->port, &extra) != 1 || sp->port <= 0 ||
      sp->port > 65535) {
    snprintf(err, errlen, "the server's first line is not \"port N\": %s",
             line);
    return -1;
  }
  if (read_line(sp, line, sizeof line, end, err, errlen) != 0) {
    return -1;
  }
  if (sscanf(line, "pollers %d%c", &sp->pollers, &extra) != 1 ||
      sp->pollers <= 0) {
    snprintf(err, errlen, "the server's second line is not \"pollers N\": %s",
             line);
    return -1;
  }
  return 0;
}

int server_process_start(server_process *sp, const char *path, int pollers,
                         const char *tls_dir, char *err, size_t errlen) {
  sp->pid = 0;
  sp->stdin_fd = sp->stdout_fd = -1;
  sp->port = 0;
  sp->pollers = 0;
  if (access(path, X_OK) != 0) {
    snprintf(err, errlen, "cannot run the server '%s': %s", path,
             strerror(errno));
    return -1;
  }
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  if (pipe2(out, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    close(in[0]), close(in[1]);
    return -1;
  }
  char pollers_arg[16];
  snprintf(pollers_arg, sizeof pollers_arg, "%d", pollers);
  char *argv[6] = {(char *)path};
  int argc = 1;
  if (pollers > 0) {
    argv[argc++] = "--pollers";
    argv[argc++] = pollers_arg;
  }
  if (tls_dir) {
    argv[argc++] = "--tls";
    argv[argc++] = (char *)tls_dir;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return -1;
  }
  if (pid == 0) {
    /* dup2 clears close-on-exec on the copies: only 0 and 1 survive. */
    if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0) {
      _exit(127);
    }
    execv(path, argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  sp->pid = pid;
  sp->stdin_fd = in[1];
  sp->stdout_fd = out[0];
  if (read_port(sp, err, errlen) != 0) {
    char ignored[64];
    server_process_stop(sp, ignored, sizeof ignored);
    return -1;
  }
  return 0;
}

int server_process_stop(server_process *sp, char *err, size_t errlen) {
  if (sp->pid <= 0) {
    close_fd(&sp->stdin_fd);
    close_fd(&sp->stdout_fd);
    return 0;
  }
  int status = 0;
  const char *how = NULL;
  close_fd(&sp->stdin_fd);
  /* A clean stop may wait up to 10 s inside grpc_shutdown (see
   * raw_grpc_server.c); SIGTERM then makes the server exit at once. */
  if (!reap_within(sp, 15.0, &status)) {
    how = "did not stop within 15 s of its stdin closing; sent SIGTERM";
    kill(sp->pid, SIGTERM);
    if (!reap_within(sp, 2.0, &status)) {
      how = "ignored its stdin closing and SIGTERM; killed";
      kill(sp->pid, SIGKILL);
      waitpid(sp->pid, &status, 0);
    }
  }
  sp->pid = 0;
  close_fd(&sp->stdout_fd);
  if (how) {
    snprintf(err, errlen, "the server %s", how);
    return -1;
  }
  if (WIFSIGNALED(status)) {
    snprintf(err, errlen, "the server died of signal %d", WTERMSIG(status));
    return -1;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    snprintf(err, errlen, "the server exited with status %d",
             WEXITSTATUS(status));
    return -1;
  }
  return 0;
}
