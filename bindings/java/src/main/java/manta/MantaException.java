package manta;

/**
 * A manta error: what a failed task, a dead actor, a timeout or a refused
 * call reports. It carries the error's kind ({@link #code()}), its own
 * message ({@link #errorMessage()}), where it happened ({@link #origin()},
 * e.g. {@code "function levenshtein"} or {@code "java actor Counter.add"}),
 * and the error that caused it, if any, as its {@link #getCause() cause}.
 *
 * <p>It is also a value: an error nested in a list or map comes to Java as
 * a MantaException object (not thrown), and a MantaException given as a
 * value, or returned by a Java task, becomes an error value in C.
 *
 * <p>The subclasses name the kinds a program usually handles apart.
 */
public class MantaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int code;
  private final String errorMessage;
  private final String origin;

  public MantaException(ErrorCode code, String message) {
    this(code.code(), message, "", null);
  }

  public MantaException(ErrorCode code, String message, String origin, MantaException cause) {
    this(code.code(), message, origin, cause);
  }

  MantaException(int code, String message, String origin, MantaException cause) {
    super(compose(code, message, origin), cause);
    this.code = code;
    this.errorMessage = message == null ? "" : message;
    this.origin = origin == null ? "" : origin;
  }

  private static String compose(int code, String message, String origin) {
    StringBuilder sb = new StringBuilder(ErrorCode.of(code).name());
    if (ErrorCode.of(code) == ErrorCode.UNKNOWN) {
      sb.append('(').append(code).append(')');
    }
    if (message != null && !message.isEmpty()) {
      sb.append(": ").append(message);
    }
    if (origin != null && !origin.isEmpty()) {
      sb.append(" @ ").append(origin);
    }
    return sb.toString();
  }

  /** The kind of error. */
  public ErrorCode code() {
    return ErrorCode.of(code);
  }

  /** The numeric code, also for kinds this version does not know. */
  public int rawCode() {
    return code;
  }

  /** The error's own message, without kind or origin. */
  public String errorMessage() {
    return errorMessage;
  }

  /** Where it happened ("" when unknown). */
  public String origin() {
    return origin;
  }

  /** The error this one was caused by, or null. */
  public MantaException errorCause() {
    return getCause() instanceof MantaException ? (MantaException) getCause() : null;
  }

  /** Built by the native glue for every error it reports. */
  static MantaException of(int code, String message, String origin, MantaException cause) {
    switch (ErrorCode.of(code)) {
      case TIMEOUT:
        return new Timeout(message, origin, cause);
      case TASK_FAILED:
        return new TaskFailed(message, origin, cause);
      case ACTOR_DEAD:
        return new ActorDead(message, origin, cause);
      case DEPENDENCY:
        return new DependencyFailed(message, origin, cause);
      case CANCELLED:
        return new Cancelled(message, origin, cause);
      case TYPE:
        return new ValueType(message, origin, cause);
      case NOT_FOUND:
        return new NotFound(message, origin, cause);
      default:
        return new MantaException(code, message, origin, cause);
    }
  }

  /** The task (C, Java or other) failed; its message says how. */
  public static class TaskFailed extends MantaException {
    private static final long serialVersionUID = 1L;

    public TaskFailed(String message, String origin, MantaException cause) {
      super(ErrorCode.TASK_FAILED.code(), message, origin, cause);
    }
  }

  /** A get or a call waited longer than the caller allowed. */
  public static class Timeout extends MantaException {
    private static final long serialVersionUID = 1L;

    public Timeout(String message, String origin, MantaException cause) {
      super(ErrorCode.TIMEOUT.code(), message, origin, cause);
    }
  }

  /** The actor was killed, failed to construct, or its class is unknown. */
  public static class ActorDead extends MantaException {
    private static final long serialVersionUID = 1L;

    public ActorDead(String message, String origin, MantaException cause) {
      super(ErrorCode.ACTOR_DEAD.code(), message, origin, cause);
    }
  }

  /** A ref given as an argument held an error; the cause is that error. */
  public static class DependencyFailed extends MantaException {
    private static final long serialVersionUID = 1L;

    public DependencyFailed(String message, String origin, MantaException cause) {
      super(ErrorCode.DEPENDENCY.code(), message, origin, cause);
    }
  }

  /** The task was cancelled before it started. */
  public static class Cancelled extends MantaException {
    private static final long serialVersionUID = 1L;

    public Cancelled(String message, String origin, MantaException cause) {
      super(ErrorCode.CANCELLED.code(), message, origin, cause);
    }
  }

  /** A value of the wrong type, or one that cannot become a manta value. */
  public static class ValueType extends MantaException {
    private static final long serialVersionUID = 1L;

    public ValueType(String message, String origin, MantaException cause) {
      super(ErrorCode.TYPE.code(), message, origin, cause);
    }
  }

  /** No function, class, method or named actor by that name. */
  public static class NotFound extends MantaException {
    private static final long serialVersionUID = 1L;

    public NotFound(String message, String origin, MantaException cause) {
      super(ErrorCode.NOT_FOUND.code(), message, origin, cause);
    }
  }
}
