package manta;

/** What {@link Manta#stat} can report: {@code manta_stat} of {@code manta.h}. */
public enum Stat {
  /** Objects with at least one ref. */
  LIVE_OBJECTS(0),
  /** Bytes of string and bytes data held by objects. */
  LIVE_OBJECT_BYTES(1),
  /** Tasks waiting for dependencies or a slot. */
  TASKS_QUEUED(2),
  TASKS_RUNNING(3),
  /** Tasks finished since init, failed ones included. */
  TASKS_FINISHED(4),
  /** Threads alive in the worker pool. */
  WORKER_THREADS(5),
  LIVE_ACTORS(6),
  /** Native value allocations in the process (works without init). */
  LIVE_VALUES(7);

  final int code;

  Stat(int code) {
    this.code = code;
  }
}
