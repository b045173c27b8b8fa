package ai.promptline.ml.data.image;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes JPEG/PNG/BMP/GIF files to 8-bit RGB with the semantics of PIL's {@code .convert("RGB")},
 * which is what the reference pipeline feeds to its transforms:
 *
 * <ul>
 *   <li>grayscale is replicated to three channels (the raw sample, <em>not</em>
 *       {@code BufferedImage.getRGB}, which would apply a colour-space conversion for gray images);
 *   <li>alpha is dropped without compositing (PIL does not blend RGBA onto a background);
 *   <li>16-bit samples keep their high byte;
 *   <li>CMYK JPEGs are converted with PIL's formula {@code R = nk - MULDIV255(C, nk)},
 *       {@code nk = 255 - K} (checked against Pillow). JDK 17 hands out CMYK as a raw 4-band raster;
 *       a JDK whose reader refuses instead is handled by reading the raster (Adobe files store
 *       inverted values, so those are inverted first).
 * </ul>
 *
 * <p>8-bit non-interlaced PNGs are decoded by {@link PngDecoder} (same bytes, without ImageIO's raster
 * copies); everything else goes through ImageIO.
 *
 * <p>Every failure is an {@link UnreadableImageException} (an {@link UncheckedIOException}) whose message names the file.
 */
public final class Images {
  static {
    ImageIO.setUseCache(false); // no temp files; decoding happens from memory/disk directly
  }

  private Images() {}

  /** Reads an image file as RGB; throws with the file name when it is missing or not decodable. */
  public static RgbImage readRgb(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new UnreadableImageException(file, "image file not found: " + file, null);
    }
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (PngDecoder.isPng(bytes)) {
        RgbImage png = PngDecoder.decode(bytes);
        if (png != null) return png;
      }
      return decodeWithImageIo(bytes, file);
    } catch (IOException | RuntimeException e) {
      String msg = e.getMessage() != null && e.getMessage().contains(file.toString())
          ? e.getMessage()
          : "unreadable image " + file + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      throw new UnreadableImageException(file, msg, e);
    }
  }

  /** The ImageIO route (package-private for the PNG decoder test). */
  static RgbImage decodeWithImageIo(byte[] bytes, Path file) throws IOException {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      if (in == null) throw new IOException("cannot open image file: " + file);
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new IOException("unreadable image (unknown or unsupported format): " + file);
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        RgbImage direct = readSrgbJpegDirect(reader);
        if (direct != null) return direct;
        BufferedImage img;
        try {
          img = reader.read(0);
        } catch (IOException | RuntimeException e) {
          // ImageIO's JPEG reader refuses CMYK/YCCK colour conversion but can hand out the raster.
          if (!"jpeg".equalsIgnoreCase(reader.getFormatName())) throw e;
          Raster raster = reader.readRaster(0, null);
          if (raster.getNumBands() != 4) throw e;
          return cmykToRgb(raster, isAdobe(reader));
        }
        return toRgb(img);
      } finally {
        reader.dispose();
      }
    }
  }

  /**
   * A plain (YCbCr/RGB, no ICC profile) JPEG decoded straight into an RGB-ordered byte raster that
   * becomes the {@link RgbImage} without a copy. ImageIO's default destination is BGR, which costs a
   * raster copy plus a channel swap (about 40% of JPEG decode time). Returns null for any other
   * JPEG (gray, CMYK, ICC profile) and other formats, which take the general path.
   */
  private static RgbImage readSrgbJpegDirect(ImageReader reader) throws IOException {
    if (!"jpeg".equalsIgnoreCase(reader.getFormatName())) return null;
    ImageTypeSpecifier raw;
    try {
      raw = reader.getRawImageType(0);
    } catch (IOException | RuntimeException e) {
      return null; // let the general path report or handle it
    }
    if (raw == null || raw.getNumBands() != 3 || !raw.getColorModel().getColorSpace().isCS_sRGB()) return null;
    int w = reader.getWidth(0);
    int h = reader.getHeight(0);
    if ((long) w * h * 3 > Integer.MAX_VALUE) return null;
    WritableRaster raster =
        Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, w * 3, 3, new int[] {0, 1, 2}, null);
    ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
        Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
    ImageReadParam param = reader.getDefaultReadParam();
    param.setDestination(new BufferedImage(cm, raster, false, null));
    reader.read(0, param);
    return new RgbImage(w, h, ((DataBufferByte) raster.getDataBuffer()).getData());
  }

  private static boolean isAdobe(ImageReader reader) {
    try {
      var meta = reader.getImageMetadata(0);
      if (meta == null) return false;
      org.w3c.dom.Node tree = meta.getAsTree("javax_imageio_jpeg_image_1.0");
      return findNode(tree, "app14Adobe");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static boolean findNode(org.w3c.dom.Node n, String name) {
    if (name.equals(n.getNodeName())) return true;
    for (var c = n.getFirstChild(); c != null; c = c.getNextSibling()) if (findNode(c, name)) return true;
    return false;
  }

  private static RgbImage cmykToRgb(Raster r, boolean inverted) {
    int w = r.getWidth();
    int h = r.getHeight();
    byte[] out = new byte[w * h * 3];
    int[] px = new int[4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        r.getPixel(x + r.getMinX(), y + r.getMinY(), px);
        int k = inverted ? 255 - px[3] : px[3];
        int nk = 255 - k;
        for (int c = 0; c < 3; c++) {
          int v = inverted ? 255 - px[c] : px[c];
          // PIL: nk - MULDIV255(v, nk), with MULDIV255 rounding like (x*y + 128 + ((x*y+128)>>8)) >> 8
          int t = v * nk + 128;
          out[(y * w + x) * 3 + c] = (byte) (nk - ((t + (t >> 8)) >> 8));
        }
      }
    }
    return new RgbImage(w, h, out);
  }

  /** Converts a decoded BufferedImage to RGB bytes (PIL {@code convert("RGB")} semantics). */
  public static RgbImage toRgb(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    byte[] out = new byte[w * h * 3];
    switch (img.getType()) {
      case BufferedImage.TYPE_3BYTE_BGR -> {
        if (img.getRaster().getDataBuffer() instanceof DataBufferByte db && isPacked(img, 3)) {
          byte[] src = db.getData();
          for (int i = 0, n = w * h; i < n; i++) {
            out[i * 3] = src[i * 3 + 2];
            out[i * 3 + 1] = src[i * 3 + 1];
            out[i * 3 + 2] = src[i * 3];
          }
          return new RgbImage(w, h, out);
        }
      }
      case BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB -> {
        if (img.getRaster().getDataBuffer() instanceof DataBufferInt db && isPacked(img, 1)) {
          int[] src = db.getData();
          for (int i = 0, n = w * h; i < n; i++) {
            int p = src[i];
            out[i * 3] = (byte) (p >> 16);
            out[i * 3 + 1] = (byte) (p >> 8);
            out[i * 3 + 2] = (byte) p;
          }
          return new RgbImage(w, h, out);
        }
      }
      default -> {}
    }
    ColorModel cm = img.getColorModel();
    Raster r = img.getRaster();
    if (cm.getColorSpace().getType() == ColorSpace.TYPE_CMYK) {
      // JDK 17 decodes CMYK JPEGs into a raw 4-band raster, already un-inverted like PIL's "CMYK".
      return cmykToRgb(r, false);
    }
    if (cm instanceof IndexColorModel) {
      // Palette images: the palette already holds sRGB values; alpha is dropped.
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        img.getRGB(0, y, w, 1, row, 0, w);
        for (int x = 0; x < w; x++) {
          int p = row[x];
          int o = (y * w + x) * 3;
          out[o] = (byte) (p >> 16);
          out[o + 1] = (byte) (p >> 8);
          out[o + 2] = (byte) p;
        }
      }
      return new RgbImage(w, h, out);
    }
    int colorBands = cm.getNumColorComponents();
    int bits = cm.getComponentSize(0);
    int shift = Math.max(0, bits - 8);
    int[] samples = new int[w];
    for (int c = 0; c < 3; c++) {
      int band = colorBands >= 3 ? c : 0; // gray (and gray+alpha) replicate band 0
      for (int y = 0; y < h; y++) {
        r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, band, samples);
        for (int x = 0; x < w; x++) out[(y * w + x) * 3 + c] = (byte) (samples[x] >> shift);
      }
    }
    return new RgbImage(w, h, out);
  }

  private static boolean isPacked(BufferedImage img, int pixelStride) {
    var sm = img.getRaster().getSampleModel();
    return img.getRaster().getParent() == null
        && img.getRaster().getSampleModelTranslateX() == 0
        && img.getRaster().getSampleModelTranslateY() == 0
        && (sm instanceof java.awt.image.ComponentSampleModel csm
                ? csm.getScanlineStride() == img.getWidth() * pixelStride && csm.getPixelStride() == pixelStride
                : sm instanceof java.awt.image.SinglePixelPackedSampleModel sp && sp.getScanlineStride() == img.getWidth());
  }
}
