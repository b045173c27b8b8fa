package ai.promptline.cli;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * CLIP's test transform for the {@code clip classify} command: shorter side resized to {@code size}
 * (bicubic), center crop, RGB in [0,1], normalised with the CLIP mean/std (methods.md §1.8).
 *
 * <p><b>Temporary.</b> java.awt's bicubic does not antialias when downscaling, so pixel values
 * differ from PIL's. On merge with the data layer, switch to
 * {@code ai.promptline.ml.data.image.Transforms.test(size)} / {@code Images.readRgb(path)}, which
 * reproduce PIL exactly; this class then goes away.
 */
final class ClipPreprocess {
  private ClipPreprocess() {}

  static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
  static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

  /** Pixels {@code [3, size, size]} in CHW order, normalised. */
  static float[] testTransform(Path image, int size) throws IOException {
    if (!Files.isRegularFile(image)) throw new IOException("image not found: " + image);
    BufferedImage src = ImageIO.read(image.toFile());
    if (src == null) throw new IOException("unsupported or corrupt image: " + image);
    int w = src.getWidth();
    int h = src.getHeight();
    // torchvision Resize(int): shorter side → size, longer side → int(size * long / short)
    int nw;
    int nh;
    if (w <= h) {
      nw = size;
      nh = (int) ((long) size * h / w);
    } else {
      nh = size;
      nw = (int) ((long) size * w / h);
    }
    BufferedImage resized = new BufferedImage(nw, nh, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = resized.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(src, 0, 0, nw, nh, null);
    g.dispose();
    int top = (int) Math.round((nh - size) / 2.0);
    int left = (int) Math.round((nw - size) / 2.0);
    float[] out = new float[3 * size * size];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int rgb = resized.getRGB(left + x, top + y);
        int[] c = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
        for (int ch = 0; ch < 3; ch++) {
          out[ch * size * size + y * size + x] = (c[ch] / 255f - MEAN[ch]) / STD[ch];
        }
      }
    }
    return out;
  }
}
