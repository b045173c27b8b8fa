package ai.promptline.activities;

import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Text rendering for the plots on any machine. Java2D draws text with the fonts the OS's
 * fontconfig lists; a machine without any (a minimal container) fails the first text measurement
 * with "Fontconfig head is null" (or, with a stale JDK font cache, "No physical fonts found"). Where
 * no font file is found before AWT starts, or the first measurement fails, the JDK is pointed, through {@code sun.awt.fontconfig}, at a
 * font configuration that maps every logical font to Liberation Sans, the TrueType font shipped
 * inside the PDFBox jar (a Maven dependency, SIL Open Font License), extracted to a temporary
 * folder. Headless mode is set before anything touches AWT.
 */
public final class PlotFonts {
  private static final Logger LOG = LoggerFactory.getLogger(PlotFonts.class);
  static final String BUNDLED = "/org/apache/pdfbox/resources/ttf/LiberationSans-Regular.ttf";
  private static volatile boolean ready;

  private PlotFonts() {}

  /** Makes text renderable (headless; the bundled font where the machine has none); idempotent. */
  public static synchronized void ensure() {
    if (ready) return;
    if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    // no font file where fontconfig looks: configure the bundled font before the JDK's font manager
    // starts (a stale JDK font cache would otherwise let it start and then find no physical font)
    if (System.getProperty("sun.awt.fontconfig") == null && !anyFontFile()) useBundled("no font files in " + FONT_DIRS);
    try {
      measure();
    } catch (RuntimeException | Error first) {
      if (System.getProperty("sun.awt.fontconfig") != null) throw first; // the user's own configuration: leave it
      useBundled(first.toString());
      measure(); // the JDK retries its font manager on the next use
    }
    ready = true;
  }

  /** Where fontconfig and the JDK look for fonts on Linux (and the user's own folders). */
  static final List<Path> FONT_DIRS = List.of(Path.of("/usr/share/fonts"), Path.of("/usr/local/share/fonts"),
      Path.of(System.getProperty("user.home"), ".fonts"), Path.of(System.getProperty("user.home"), ".local", "share", "fonts"),
      Path.of(System.getProperty("java.home"), "lib", "fonts"));

  private static boolean anyFontFile() {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) return true; // the OS has its own
    for (Path dir : FONT_DIRS) {
      if (!Files.isDirectory(dir)) continue;
      try (var files = Files.walk(dir, 6)) {
        if (files.anyMatch(f -> f.getFileName().toString().toLowerCase(java.util.Locale.ROOT).matches(".*\\.(ttf|otf|ttc|pfb|pfa)"))) return true;
      } catch (IOException | UncheckedIOException e) {
        return true; // unreadable: let the JDK decide
      }
    }
    return false;
  }

  private static void useBundled(String why) {
    Path props = bundledConfiguration();
    LOG.info("no usable system fonts ({}); the plots use the bundled Liberation Sans ({})", why, props);
    System.setProperty("sun.awt.fontconfig", props.toString());
  }

  private static void measure() {
    BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.getFontMetrics(new Font(Font.SANS_SERIF, Font.PLAIN, 12)).stringWidth("HM 0.0");
    } finally {
      g.dispose();
    }
  }

  /**
   * Writes the bundled font and a JDK font configuration ({@code fontconfig.properties} format,
   * version 1) mapping serif, sansserif, monospaced, dialog and dialoginput in every style to it.
   */
  public static Path bundledConfiguration() {
    try {
      Path dir = Files.createTempDirectory("promptline-fonts");
      Path ttf = dir.resolve("LiberationSans-Regular.ttf");
      try (InputStream in = PlotFonts.class.getResourceAsStream(BUNDLED)) {
        if (in == null) throw new IllegalStateException("the bundled font " + BUNDLED + " is not on the classpath (the pdfbox jar)");
        Files.copy(in, ttf, StandardCopyOption.REPLACE_EXISTING);
      }
      StringBuilder p = new StringBuilder("version=1\n");
      for (String family : new String[] {"serif", "sansserif", "monospaced", "dialog", "dialoginput"})
        for (String style : new String[] {"plain", "bold", "italic", "bolditalic"})
          p.append(family).append('.').append(style).append(".latin-1=LiberationSans\n");
      p.append("sequence.allfonts=latin-1\n");
      p.append("filename.LiberationSans=").append(ttf.toAbsolutePath().toString().replace("\\", "/")).append('\n');
      p.append("awtfontpath.latin-1=").append(dir.toAbsolutePath().toString().replace("\\", "/")).append('\n');
      Path props = dir.resolve("fontconfig.properties");
      Files.writeString(props, p);
      dir.toFile().deleteOnExit();
      ttf.toFile().deleteOnExit();
      props.toFile().deleteOnExit();
      return props;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the plots' font configuration: " + e.getMessage(), e);
    }
  }
}
