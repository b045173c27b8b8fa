package ai.promptline.activities;

import java.util.LinkedHashMap;
import java.util.Map;

/** Versions of the code and libraries a result was computed with, for provenance records. */
public final class Provenance {
  private Provenance() {}

  /**
   * Every frozen model a run computed with, in order: the main CLIP ({@code role: model}) and each
   * expert ({@code role: expert}), with name, sha256 and precision (no machine-local path).
   */
  public static java.util.List<Map<String, String>> frozenModels(ai.promptline.workflows.model.RunConfig config) {
    java.util.List<Map<String, String>> out = new java.util.ArrayList<>();
    java.util.List<ai.promptline.workflows.model.ModelRef> all = config.frozenModels();
    for (int i = 0; i < all.size(); i++) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("role", i == 0 ? "model" : "expert");
      m.put("name", all.get(i).name());
      m.put("sha256", all.get(i).sha256());
      m.put("precision", all.get(i).precision());
      out.add(m);
    }
    return out;
  }

  /** Git commit of the code (set by the launcher), or "unknown". */
  public static String codeVersion() {
    String v = System.getProperty("promptline.git.commit");
    if (v == null || v.isBlank()) v = System.getenv("PROMPTLINE_GIT_COMMIT");
    return v == null || v.isBlank() ? "unknown" : v;
  }

  /**
   * Where a train activity ran: device, engine versions, host and cores — captured by the worker
   * that trains (the GPU queue), not by the one that logs.
   */
  public static Map<String, String> environment(ai.djl.ndarray.NDManager manager) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("device", String.valueOf(manager.getDevice()));
    m.put("djl", version(ai.djl.engine.Engine.class));
    m.put("pytorch", engineVersion());
    try {
      ai.djl.engine.Engine e = ai.djl.engine.Engine.getInstance();
      m.put("gpus", String.valueOf(e.getGpuCount()));
      if (e.getGpuCount() > 0) {
        m.put("cuda", String.valueOf(ai.djl.util.cuda.CudaUtils.getCudaVersionString()));
        m.put("gpu", String.valueOf(ai.djl.util.cuda.CudaUtils.getComputeCapability(0)));
      }
    } catch (RuntimeException | LinkageError e) {
      m.put("gpus", "unavailable");
    }
    try {
      m.put("host", java.net.InetAddress.getLocalHost().getHostName());
    } catch (java.io.IOException e) {
      m.put("host", "unknown");
    }
    m.put("cpus", String.valueOf(Runtime.getRuntime().availableProcessors()));
    m.put("java", System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    return m;
  }

  public static Map<String, String> libraries() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("java", System.getProperty("java.version"));
    m.put("djl", version(ai.djl.engine.Engine.class));
    m.put("pytorch", engineVersion());
    m.put("temporal-sdk", version(io.temporal.client.WorkflowClient.class));
    m.put("minio-java", version(io.minio.MinioClient.class));
    m.put("mlflow-client", version(org.mlflow.tracking.MlflowClient.class));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    return m;
  }

  private static String engineVersion() {
    try {
      return ai.djl.engine.Engine.getInstance().getVersion();
    } catch (RuntimeException e) {
      return "unavailable";
    }
  }

  private static String version(Class<?> c) {
    Package p = c.getPackage();
    String v = p == null ? null : p.getImplementationVersion();
    if (v != null) return v;
    String loc = String.valueOf(c.getProtectionDomain().getCodeSource().getLocation());
    return loc.substring(loc.lastIndexOf('/') + 1).replace(".jar", "");
  }
}
