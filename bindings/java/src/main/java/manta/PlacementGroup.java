package manta;

import java.util.Map;

/**
 * A placement group: bundles of resources reserved across the cluster all
 * at once (see docs/scheduling.md). Made by {@link Manta#placementGroup};
 * calls run in one of its bundles with {@link CallOptions#placementGroup}.
 * The handle is a checked id: after {@link #remove} its methods throw
 * {@link MantaException} (BAD_HANDLE).
 */
public final class PlacementGroup {
  final long id;

  PlacementGroup(long id) {
    this.id = id;
  }

  /**
   * Waits up to {@code timeoutMs} (negative: no limit) until every bundle
   * is reserved: true. False if it still waits for resources then. Throws
   * {@link MantaException} (INFEASIBLE) at once when no set of nodes can
   * ever hold the group, with a message saying which bundle and why.
   */
  public boolean waitReady(long timeoutMs) {
    return Native.pgWait(id, timeoutMs);
  }

  /**
   * Frees the reservation: calls queued in the group fail (CANCELLED),
   * its actors are killed, running tasks' results become CANCELLED errors
   * at once (their code runs on to its end).
   */
  public void remove() {
    Native.pgRemove(id);
  }

  /**
   * With {@code on}, tasks submitted with no group or strategy of their own
   * by a task running in this group run in it too (any bundle); off by
   * default. Works on the node that created the group.
   */
  public PlacementGroup captureChildTasks(boolean on) {
    Native.pgCaptureChildTasks(id, on);
    return this;
  }

  /** id, strategy, state and bundles (their resources and nodes). */
  @SuppressWarnings("unchecked")
  public Map<String, Object> info() {
    return (Map<String, Object>) Native.pgInfo(id);
  }

  @Override
  public String toString() {
    return "PlacementGroup(" + Long.toHexString(id) + ")";
  }
}
