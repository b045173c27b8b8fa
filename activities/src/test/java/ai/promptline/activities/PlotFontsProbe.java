package ai.promptline.activities;

import java.util.List;

/**
 * Run in a child JVM by {@link CampaignPlotsTest}: renders the accuracy chart with whatever font
 * configuration the JVM was started with and prints the PNG's size and the font families the JDK sees.
 */
public final class PlotFontsProbe {
  public static void main(String[] args) {
    byte[] png = CampaignPlots.png(CampaignPlots.accuracyChart(CampaignPlotsTest.runs()), 640, 480);
    String[] families = java.awt.GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames();
    System.out.println("png " + png.length + " families " + List.of(families));
  }
}
