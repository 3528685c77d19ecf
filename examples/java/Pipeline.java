package examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import manta.ActorHandle;
import manta.Manta;
import manta.ObjectRef;

/**
 * A pipeline across languages and processes: the driver sends counterparty
 * names to a C function ("name_key", name_key_module.c) whose results feed
 * a Java actor ("NameTally") that aggregates them; the driver prints the
 * aggregate.
 *
 * <pre>
 * java -cp manta.jar:manta-examples.jar examples.Pipeline HEAD_ADDRESS
 * java -cp manta.jar:manta-examples.jar examples.Pipeline --embedded libname_key_module.so
 * </pre>
 *
 * Joined to a cluster, name_key runs on a C node that loaded the module
 * (manta start --module) and NameTally lives on a JVM node that loaded
 * NameTallyModule (manta.Node --module): run-pipeline.sh starts them.
 * --embedded runs everything in this process.
 */
public final class Pipeline {
  private Pipeline() {}

  static final List<String> NAMES = List.of("ACME Corp.", "Acme Corporation", "acme corp",
      "Globex Inc", "GLOBEX, Inc.", "Initech LLC", "Initech", "Umbrella Corporation",
      "Umbrella corp", "umbrella", "Hooli Ltd", "Stark Industries");

  @SuppressWarnings({"try", "unchecked"}) // the resource only closes the runtime
  public static void main(String[] args) {
    boolean embedded = args.length == 2 && args[0].equals("--embedded");
    if (!embedded && args.length != 1) {
      System.err.println("usage: Pipeline HEAD_ADDRESS | Pipeline --embedded MODULE.so");
      System.exit(2);
    }
    try (Manta runtime = embedded ? Manta.init() : Manta.init(args[0])) {
      if (embedded) {
        Manta.loadModule(args[1]);
        new NameTallyModule().register();
      }
      List<ObjectRef<String>> keys = new ArrayList<>();
      for (String name : NAMES) {
        keys.add(Manta.function("name_key").remote(name));
      }
      // A ref given as an argument is a dependency: each add runs when its
      // key is ready and receives the key itself.
      try (ActorHandle tally = Manta.actor("NameTally").remote()) {
        for (ObjectRef<String> key : keys) {
          tally.call("add", key).close();
        }
        Map<String, Object> summary = (Map<String, Object>) tally.call("summary").get(60_000);
        System.out.println(
            summary.get("names") + " names, " + summary.get("distinct") + " distinct");
        for (Map.Entry<String, Object> e :
            ((Map<String, Object>) summary.get("counts")).entrySet()) {
          System.out.println("  " + e.getKey() + ": " + e.getValue());
        }
      }
      keys.forEach(ObjectRef::close);
    }
  }
}
