package manta;

/**
 * Where a call runs: {@code manta_strategy} of {@code manta.h} (see
 * docs/scheduling.md). A node affinity is set with {@link
 * CallOptions#nodeAffinity}.
 */
public enum Strategy {
  /** This node while it is not busy, else the least loaded node that can run the call. */
  DEFAULT(0),
  /** Round-robin over the nodes that can run the call, this one included when it can. */
  SPREAD(1);

  final int code;

  Strategy(int code) {
    this.code = code;
  }
}
