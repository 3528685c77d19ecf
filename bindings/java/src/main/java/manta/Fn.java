package manta;

/**
 * The shapes of Java functions {@link Manta#register} accepts: a lambda or a
 * method reference of zero to four arguments, or {@link Varargs} for any
 * count. Arguments arrive converted from manta values: integers as Long,
 * floating point as Double, lists as List, maps as Map (see docs/java.md).
 * They may throw: the caller receives a {@link MantaException.TaskFailed}
 * naming the exception's class and message.
 */
public final class Fn {
  private Fn() {}

  @FunctionalInterface
  public interface F0<R> {
    R call() throws Exception;
  }

  @FunctionalInterface
  public interface F1<A, R> {
    R call(A a) throws Exception;
  }

  @FunctionalInterface
  public interface F2<A, B, R> {
    R call(A a, B b) throws Exception;
  }

  @FunctionalInterface
  public interface F3<A, B, C, R> {
    R call(A a, B b, C c) throws Exception;
  }

  @FunctionalInterface
  public interface F4<A, B, C, D, R> {
    R call(A a, B b, C c, D d) throws Exception;
  }

  /** Any number of arguments, as an array. */
  @FunctionalInterface
  public interface Varargs {
    Object call(Object[] args) throws Exception;
  }
}
