package examples;

import manta.Manta;
import manta.Module;

/** Offers the Java Counter class to every caller, C included. */
public class CounterModule implements Module {
  @Override
  public void register() {
    Manta.registerActor("Counter", Counter.class);
  }
}
