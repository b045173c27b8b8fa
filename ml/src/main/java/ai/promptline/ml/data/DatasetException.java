package ai.promptline.ml.data;

import java.util.List;

/**
 * A dataset cannot be used for training or evaluation. Raised by validation <em>before</em> any
 * training starts, with every problem counted and the first few listed, so that one run of
 * {@code promptline data verify} shows what to fix. Nothing is ever skipped silently: a missing
 * image would otherwise shift few-shot sampling and change every later class's subset.
 */
public final class DatasetException extends RuntimeException {
  /** How many problems are quoted in the message. */
  public static final int SHOWN = 5;

  private final String dataset;
  private final List<String> problems;
  private final int count;

  /**
   * @param dataset dataset name
   * @param problems the first problems (any number; the message quotes up to {@link #SHOWN})
   * @param count total number of problems found
   */
  public DatasetException(String dataset, List<String> problems, int count) {
    super(message(dataset, problems, count));
    this.dataset = dataset;
    this.problems = List.copyOf(problems);
    this.count = count;
  }

  /** A single-problem exception (missing root, missing split file...). */
  public static DatasetException of(String dataset, String problem) {
    return new DatasetException(dataset, List.of(problem), 1);
  }

  private static String message(String dataset, List<String> problems, int count) {
    StringBuilder sb = new StringBuilder("dataset ").append(dataset).append(": ");
    if (count == 1 && problems.size() == 1) return sb.append(problems.get(0)).toString();
    sb.append(count).append(" problems; first ").append(Math.min(SHOWN, problems.size())).append(": ");
    for (int i = 0; i < Math.min(SHOWN, problems.size()); i++) {
      if (i > 0) sb.append("; ");
      sb.append(problems.get(i));
    }
    return sb.toString();
  }

  public String dataset() {
    return dataset;
  }

  /** The recorded problems (at most the first 100). */
  public List<String> problems() {
    return problems;
  }

  /** Total number of problems found. */
  public int count() {
    return count;
  }
}
