package examples;

import manta.Manta;
import manta.Module;

/** Offers the Java NameTally actor class (a JVM node loads it). */
public class NameTallyModule implements Module {
  @Override
  public void register() {
    Manta.registerActor("NameTally", NameTally.class);
  }
}
