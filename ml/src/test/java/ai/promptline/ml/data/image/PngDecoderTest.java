package ai.promptline.ml.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The direct PNG path gives the same RGB bytes as the ImageIO path, and refuses broken files. */
class PngDecoderTest {
  @TempDir Path tmp;

  @Test
  void everyHandledLayout_matchesImageIo() throws Exception {
    Random r = new Random(3);
    for (BufferedImage img : new BufferedImage[] {
        fill(new BufferedImage(37, 23, BufferedImage.TYPE_3BYTE_BGR), r),
        fill(new BufferedImage(40, 31, BufferedImage.TYPE_4BYTE_ABGR), r),
        fill(new BufferedImage(29, 17, BufferedImage.TYPE_BYTE_GRAY), r),
        fill(grayAlpha(33, 19), r),
        fill(palette(26, 21), r)}) {
      byte[] png = write(img, false);
      RgbImage direct = PngDecoder.decode(png);
      assertNotNull(direct, "type " + img.getType() + " should take the direct path");
      RgbImage viaImageIo = Images.decodeWithImageIo(png, tmp.resolve("x.png"));
      assertEquals(viaImageIo.width(), direct.width());
      assertEquals(viaImageIo.height(), direct.height());
      assertArrayEquals(viaImageIo.rgb(), direct.rgb(), "type " + img.getType());
    }
  }

  @Test
  void pillowWrittenGoldenImages_decodeAsBefore() throws Exception {
    Path dir = Path.of(PngDecoderTest.class.getResource("/golden/pil/pil_transforms.json").toURI()).getParent();
    int direct = 0;
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".png")).toList()) {
        byte[] bytes = Files.readAllBytes(f);
        RgbImage d = PngDecoder.decode(bytes);
        if (d == null) continue;
        direct++;
        assertArrayEquals(Images.decodeWithImageIo(bytes, f).rgb(), d.rgb(), f.getFileName().toString());
      }
    }
    assertTrue(direct >= 4, "direct decodes: " + direct);
  }

  @Test
  void interlacedAndSixteenBit_fallBackToImageIo() throws Exception {
    Random r = new Random(4);
    byte[] interlaced = write(fill(new BufferedImage(20, 20, BufferedImage.TYPE_3BYTE_BGR), r), true);
    assertNull(PngDecoder.decode(interlaced));
    BufferedImage deep = new BufferedImage(9, 7, BufferedImage.TYPE_USHORT_GRAY);
    deep.getRaster().setSample(3, 3, 0, 40000);
    assertNull(PngDecoder.decode(write(deep, false)));
    Path f = tmp.resolve("interlaced.png");
    Files.write(f, interlaced);
    assertEquals(20, Images.readRgb(f).width()); // the public reader still handles it
  }

  @Test
  void truncatedOrCorruptFiles_failNamingTheFile() throws Exception {
    byte[] png = write(fill(new BufferedImage(30, 30, BufferedImage.TYPE_3BYTE_BGR), new Random(5)), false);
    Path cut = tmp.resolve("cut.png");
    Files.write(cut, Arrays.copyOf(png, png.length / 2));
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Images.readRgb(cut));
    assertTrue(e.getMessage().contains("cut.png"), e.getMessage());
    byte[] flipped = png.clone();
    flipped[png.length / 2] ^= 0x55; // inside IDAT: the chunk CRC no longer matches
    assertThrows(IOException.class, () -> PngDecoder.decode(flipped));
  }

  private static BufferedImage fill(BufferedImage img, Random r) {
    WritableRaster ras = img.getRaster();
    int max = (1 << img.getColorModel().getComponentSize(0)) - 1;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        for (int b = 0; b < ras.getNumBands(); b++) {
          // smooth gradients plus noise, so the encoder picks different row filters
          int v = (x * 7 + y * 3 + b * 50 + r.nextInt(12)) % (max + 1);
          ras.setSample(x, y, b, v);
        }
      }
    }
    return img;
  }

  private static BufferedImage grayAlpha(int w, int h) {
    ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
        Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
    return new BufferedImage(cm, cm.createCompatibleWritableRaster(w, h), false, null);
  }

  private static BufferedImage palette(int w, int h) {
    byte[] red = new byte[256];
    byte[] green = new byte[256];
    byte[] blue = new byte[256];
    for (int i = 0; i < 256; i++) {
      red[i] = (byte) i;
      green[i] = (byte) (255 - i);
      blue[i] = (byte) (i * 7);
    }
    return new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 256, red, green, blue));
  }

  private static byte[] write(BufferedImage img, boolean interlaced) throws IOException {
    ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (var ios = ImageIO.createImageOutputStream(out)) {
      w.setOutput(ios);
      ImageWriteParam p = w.getDefaultWriteParam();
      if (interlaced) p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      w.write(null, new IIOImage(img, null, null), p);
    } finally {
      w.dispose();
    }
    return out.toByteArray();
  }
}
