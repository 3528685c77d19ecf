package manta;

/**
 * The kinds of error manta reports, with the codes of {@code MANTA_ERROR_MAP}
 * in {@code manta.h}. A test checks this list against the native table, so
 * the two cannot drift apart.
 */
public enum ErrorCode {
  OK(0),
  INVALID(1),
  NOMEM(2),
  NOT_INITIALIZED(3),
  ALREADY_INITIALIZED(4),
  BAD_HANDLE(5),
  TIMEOUT(6),
  NOT_FOUND(7),
  EXISTS(8),
  TYPE(9),
  ARITY(10),
  TASK_FAILED(11),
  CANCELLED(12),
  ACTOR_DEAD(13),
  INFEASIBLE(14),
  TOO_DEEP(15),
  MALFORMED(16),
  FROZEN(17),
  RANGE(18),
  DEPENDENCY(19),
  SHUTDOWN(20),
  OBJECT_LOST(21),
  NODE_DIED(22),
  INTERNAL(23),
  /** The object store is at its memory limit and nothing could be spilled. */
  OBJECT_STORE_FULL(24),
  /** A stream's call returned and every item was read (ObjectRefStream). */
  STREAM_END(25),
  /** A code this version does not know (from a newer peer). */
  UNKNOWN(-1);

  private static final ErrorCode[] BY_CODE = new ErrorCode[STREAM_END.code + 1];

  static {
    for (ErrorCode c : values()) {
      if (c.code >= 0) {
        BY_CODE[c.code] = c;
      }
    }
  }

  private final int code;

  ErrorCode(int code) {
    this.code = code;
  }

  /** The numeric code, as in {@code manta.h}; -1 for {@link #UNKNOWN}. */
  public int code() {
    return code;
  }

  /** The kind of a numeric code; {@link #UNKNOWN} for codes not in the table. */
  public static ErrorCode of(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
  }
}
