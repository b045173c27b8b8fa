package ai.promptline.workflows.api;

/**
 * Task queues. Workflows and bookkeeping run on the CPU queue; feature extraction, training and
 * evaluation on the GPU queue, whose workers limit concurrent activities to their device count.
 * More workers join by polling the same queues.
 */
public final class TaskQueues {
  public static final String CPU = "promptline-cpu";
  public static final String GPU = "promptline-gpu";

  private TaskQueues() {}
}
