package ai.promptline.workers;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** A tiny {@code /metrics} endpoint for Prometheus scraping (JDK HTTP server, no extra dependency). */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;

  private MetricsServer(HttpServer server) {
    this.server = server;
  }

  /** Starts on {@code port} (0 = disabled: returns a no-op instance). */
  public static MetricsServer start(int port, PrometheusMeterRegistry registry) throws IOException {
    if (port <= 0) return new MetricsServer(null);
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    s.createContext("/metrics", ex -> {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(body);
      }
    });
    s.start();
    return new MetricsServer(s);
  }

  @Override
  public void close() {
    if (server != null) server.stop(0);
  }
}
