package ai.promptline.ml.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RGB-ordered JPEG destination gives exactly the bytes of ImageIO's default BGR route. */
class JpegDirectTest {
  @TempDir Path tmp;

  @Test
  void colourGrayAndGoldenJpegs_matchTheDefaultRoute() throws Exception {
    Random r = new Random(11);
    int i = 0;
    for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_BYTE_GRAY}) {
      BufferedImage img = new BufferedImage(61 + i, 45 - i, type);
      for (int y = 0; y < img.getHeight(); y++) {
        for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (x * 4 << 16) | (y * 5 << 8) | r.nextInt(256));
      }
      Path f = tmp.resolve("img" + i++ + ".jpg");
      ImageIO.write(img, "jpg", f.toFile());
      assertArrayEquals(Images.toRgb(ImageIO.read(f.toFile())).rgb(), Images.readRgb(f).rgb(), f.toString());
    }
    Path dir = Path.of(JpegDirectTest.class.getResource("/golden/pil/pil_transforms.json").toURI()).getParent();
    Path gray = dir.resolve("gray_jpeg.jpg");
    assertArrayEquals(Images.toRgb(ImageIO.read(gray.toFile())).rgb(), Images.readRgb(gray).rgb());
  }
}
