package manta;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java actor class of the cluster test, called by the C driver
 * (src/test/cluster/). Each JVM-hosting node offers it under a name only
 * it has (ClusterJvmModule, ClusterHostedModule), so where an actor lands
 * proves which kind of node placed it. Its methods take and return ints,
 * strings, lists and maps, and one throws.
 */
public class ClusterCounter {
  private long total;

  public ClusterCounter(long start) {
    total = start;
  }

  public long increment(long by) {
    total += by;
    return total;
  }

  public long total() {
    return total;
  }

  /** The process the actor lives in: the node the script started. */
  public long pid() {
    return ProcessHandle.current().pid();
  }

  public String label(String prefix) {
    return prefix + ":" + total;
  }

  /**
   * Adds every number of {@code numbers}, each times the weight {@code
   * weights} gives its position ("0", "1", ...; 1 when absent): {"total":
   * the new total, "added": the products in order, "keys": the weights'
   * keys in order}.
   */
  public Map<String, Object> addAll(List<Object> numbers, Map<String, Object> weights) {
    List<Object> added = new ArrayList<>();
    for (int i = 0; i < numbers.size(); i++) {
      Object w = weights.getOrDefault(Integer.toString(i), 1L);
      long product = (Long) numbers.get(i) * (Long) w;
      total += product;
      added.add(product);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total", total);
    out.put("added", added);
    out.put("keys", new ArrayList<Object>(weights.keySet()));
    return out;
  }

  public long fail(String why) {
    throw new IllegalArgumentException("counter refused " + why + " at " + total);
  }
}
