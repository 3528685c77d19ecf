package manta;

/**
 * How a placement group's bundles are spread over nodes: {@code
 * manta_pg_strategy} of {@code manta.h} (see docs/scheduling.md).
 */
public enum PlacementStrategy {
  /** As few nodes as possible (best effort). */
  PACK(0),
  /** Each bundle on a different node where it can be (best effort). */
  SPREAD(1),
  /** All bundles on one node, or not at all. */
  STRICT_PACK(2),
  /** Each bundle on a different node, or not at all. */
  STRICT_SPREAD(3);

  final int code;

  PlacementStrategy(int code) {
    this.code = code;
  }
}
