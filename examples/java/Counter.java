package examples;

/** The seed's counter actor, in Java: increment(by) returns the total. */
public class Counter {
  private long value;

  public long increment(long by) {
    value += by;
    return value;
  }
}
