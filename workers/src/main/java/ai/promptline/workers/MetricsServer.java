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

  /** Starts on 127.0.0.1:{@code port} (0 = disabled: returns a no-op instance). */
  public static MetricsServer start(int port, PrometheusMeterRegistry registry) throws IOException {
    return start("127.0.0.1", port, registry);
  }

  /**
   * Starts on {@code host:port} (0 = disabled: returns a no-op instance); {@code host} 0.0.0.0 in a
   * container, where Prometheus scrapes from another one.
   *
   * @throws IOException naming the address when it cannot be bound (in use, or not an address of this machine)
   */
  public static MetricsServer start(String host, int port, PrometheusMeterRegistry registry) throws IOException {
    if (port <= 0) return new MetricsServer(null);
    HttpServer s;
    try {
      s = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + host + ":" + port + " (" + e.getMessage()
          + "); give a free --metrics-port and an address of this machine as --metrics-host", e);
    }
    s.createContext("/metrics", ex -> {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(body);
      }
    });
    s.start();
    return new MetricsServer(s);
  }

  /** The port it listens on, or -1 when disabled. */
  public int port() {
    return server == null ? -1 : server.getAddress().getPort();
  }

  @Override
  public void close() {
    if (server != null) server.stop(0);
  }
}
