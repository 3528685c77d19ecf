package manta;

/**
 * The Java actor class a C node hosting a JVM serves behind an HTTP route
 * in the hosted Serve test (manta start --java-module
 * manta.ServeHostedModule --http-port 0).
 */
public class ServeHostedModule implements Module {
  @Override
  public void register() {
    Manta.registerActor("java.ServeGreeter", ServeTest.Greeter.class);
  }
}
