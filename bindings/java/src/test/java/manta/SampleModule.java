package manta;

/** A Java module for the launcher test (manta.Node --module). */
public class SampleModule implements Module {
  @Override
  public void register() {
    Manta.register("sample_java_twice", (Long x) -> 2 * x);
  }
}
