package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * When a campaign stops early and whether it counts as a success despite failed runs. At most
 * one rule is set; none is the default: every run is tried, and the campaign is FINISHED only
 * when every run finished.
 *
 * <ul>
 *   <li>{@code failFast}: the first failed run stops the campaign: no new run starts, running
 *       runs are cancelled (KILLED), the campaign is FAILED.
 *   <li>{@code maxFailures: N}: up to N failed runs are tolerated (the campaign still ends
 *       FINISHED); the (N+1)-th stops it as above.
 *   <li>{@code minSuccessRatio: r}: the campaign is FINISHED when at least {@code r} of its runs
 *       finished; it stops as soon as that can no longer be reached.
 * </ul>
 *
 * Scheduling, not content: the policy is not part of the campaign key.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FailurePolicy(Boolean failFast, Integer maxFailures, Double minSuccessRatio) {
  public static final FailurePolicy NONE = new FailurePolicy(null, null, null);

  public FailurePolicy {
    if (Boolean.FALSE.equals(failFast)) failFast = null;
    int set = (failFast != null ? 1 : 0) + (maxFailures != null ? 1 : 0) + (minSuccessRatio != null ? 1 : 0);
    if (set > 1)
      throw new IllegalArgumentException("failure policy: give one of failFast, maxFailures, minSuccessRatio, not " + set
          + " (" + describe(failFast, maxFailures, minSuccessRatio) + ")");
    if (maxFailures != null && maxFailures < 0)
      throw new IllegalArgumentException("maxFailures must be >= 0 (failed runs tolerated), got " + maxFailures);
    if (minSuccessRatio != null && !(minSuccessRatio > 0 && minSuccessRatio <= 1))
      throw new IllegalArgumentException("minSuccessRatio must be in (0, 1], e.g. 0.95, got " + minSuccessRatio);
  }

  public static FailurePolicy failFastPolicy() {
    return new FailurePolicy(true, null, null);
  }

  public static FailurePolicy maxFailures(int n) {
    return new FailurePolicy(null, n, null);
  }

  public static FailurePolicy minSuccessRatio(double r) {
    return new FailurePolicy(null, null, r);
  }

  /**
   * Why the campaign must stop now, with {@code failed} of {@code total} runs failed; null while it
   * may go on.
   */
  public String stopReason(int failed, int total) {
    if (Boolean.TRUE.equals(failFast) && failed > 0) return "failFast: a run failed";
    if (maxFailures != null && failed > maxFailures)
      return "maxFailures " + maxFailures + " exceeded: " + failed + " runs failed";
    if (minSuccessRatio != null && (total - failed) < minSuccessRatio * total)
      return String.format(java.util.Locale.ROOT, "minSuccessRatio %s can no longer be reached: %d of %d runs failed",
          minSuccessRatio, failed, total);
    return null;
  }

  /** Whether a campaign whose runs ended with {@code notFinished} of {@code total} unfinished counts as FINISHED. */
  public boolean tolerates(int notFinished, int total) {
    if (notFinished == 0) return true;
    if (maxFailures != null) return notFinished <= maxFailures;
    if (minSuccessRatio != null) return total > 0 && (total - notFinished) >= minSuccessRatio * total;
    return false;
  }

  @Override
  public String toString() {
    return describe(failFast, maxFailures, minSuccessRatio);
  }

  private static String describe(Boolean failFast, Integer maxFailures, Double ratio) {
    if (failFast == null && maxFailures == null && ratio == null) return "every run is tried; FINISHED only if all finish";
    StringBuilder sb = new StringBuilder();
    if (failFast != null) sb.append("failFast");
    if (maxFailures != null) sb.append(sb.isEmpty() ? "" : ", ").append("maxFailures ").append(maxFailures);
    if (ratio != null) sb.append(sb.isEmpty() ? "" : ", ").append("minSuccessRatio ").append(ratio);
    return sb.toString();
  }
}
