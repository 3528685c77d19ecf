/*
 * The pid files of nodes started by the manta command, in the state folder:
 * "PID ADDRESS STARTTIME", STARTTIME being field 22 of /proc/PID/stat.
 * A pid alone names whatever process holds that number now: a node that
 * died leaves its file behind and the number is reused, so before a signal
 * the process is checked to be the very node that wrote the file.
 */
#ifndef MANTA_CLI_PIDFILE_H
#define MANTA_CLI_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cli_pidfile {
  int pid;
  char address[128];
  unsigned long long start; /* clock ticks after boot */
} cli_pidfile;

/* True while process pid runs: false once it is gone or a zombie (it
 * exited and waits to be reaped). */
bool cli_pid_running(int pid);

/* Writes this process's pid file at path (mode 0600). false with errno. */
bool cli_pidfile_write(const char *path, const char *address);

/*
 * Reads the pid file at path into *out; true if its process is the node
 * that wrote it: alive, this user's, started at the recorded time, running
 * the manta program (or a JVM running manta.Node). false with why (the
 * file is stale: its node is gone) otherwise.
 */
bool cli_pidfile_check(const char *path, cli_pidfile *out, char *why,
                       size_t why_size);

#endif
