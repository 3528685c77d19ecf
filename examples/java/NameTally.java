package examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An actor that counts names by key: add(key) for each name, summary() for
 * the aggregate, {names, distinct, counts} with counts from the most
 * frequent key down (ties by key).
 */
public class NameTally {
  private final Map<String, Long> counts = new TreeMap<>();
  private long names;

  /** Counts one name; returns how many had this key so far. */
  public long add(String key) {
    names++;
    return counts.merge(key, 1L, Long::sum);
  }

  public Map<String, Object> summary() {
    List<Map.Entry<String, Long>> order = new ArrayList<>(counts.entrySet());
    order.sort((a, b) -> Long.compare(b.getValue(), a.getValue())); // stable: keys stay sorted
    Map<String, Object> byKey = new LinkedHashMap<>();
    for (Map.Entry<String, Long> e : order) {
      byKey.put(e.getKey(), e.getValue());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("names", names);
    out.put("distinct", (long) counts.size());
    out.put("counts", byKey);
    return out;
  }
}
