package ai.promptline.workflows.api;

import io.temporal.common.SearchAttributeKey;
import java.util.List;

/**
 * Promptline's Temporal search attributes, set on every run and campaign workflow so the Temporal
 * UI can filter, e.g. {@code Method = "maple" AND Dataset = "EuroSAT" AND RunStatus = "FAILED"}.
 * {@code ./promptline services up} registers them; the submitter sets them only when the server
 * has them.
 */
public final class SearchAttrs {
  /** The campaign's workflow id ({@code campaign-<key>}). */
  public static final SearchAttributeKey<String> CAMPAIGN = SearchAttributeKey.forKeyword("Campaign");
  public static final SearchAttributeKey<String> DATASET = SearchAttributeKey.forKeyword("Dataset");
  public static final SearchAttributeKey<String> METHOD = SearchAttributeKey.forKeyword("Method");
  public static final SearchAttributeKey<Long> SHOTS = SearchAttributeKey.forLong("Shots");
  public static final SearchAttributeKey<Long> SEED = SearchAttributeKey.forLong("Seed");
  public static final SearchAttributeKey<String> MODEL = SearchAttributeKey.forKeyword("Model");
  public static final SearchAttributeKey<String> PROTOCOL = SearchAttributeKey.forKeyword("Protocol");
  /** lookup, start, split, features, train, evaluate, targets, log, done, reused, failed, cancelled; for campaigns running, paused, stopping, closing, done. */
  public static final SearchAttributeKey<String> PHASE = SearchAttributeKey.forKeyword("Phase");
  /** RUNNING, FINISHED, FAILED, KILLED (the MLflow run status). */
  public static final SearchAttributeKey<String> RUN_STATUS = SearchAttributeKey.forKeyword("RunStatus");

  /** Name and Temporal type of each, as {@code temporal operator search-attribute create} takes them. */
  public static final List<String[]> ALL = List.of(
      new String[] {"Campaign", "Keyword"}, new String[] {"Dataset", "Keyword"}, new String[] {"Method", "Keyword"},
      new String[] {"Shots", "Int"}, new String[] {"Seed", "Int"}, new String[] {"Model", "Keyword"},
      new String[] {"Protocol", "Keyword"}, new String[] {"Phase", "Keyword"}, new String[] {"RunStatus", "Keyword"});

  private SearchAttrs() {}
}
