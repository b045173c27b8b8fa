package ai.promptline.ml.data.image;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A direct decoder for the common PNG layouts (8-bit samples, not interlaced; grayscale, RGB,
 * palette, grayscale+alpha, RGBA) straight into {@link RgbImage} bytes with PIL's
 * {@code convert("RGB")} semantics (alpha dropped, gray replicated, palette looked up). It skips
 * ImageIO's raster machinery, which made PNG decoding the slowest step of the input pipeline.
 *
 * <p>Written from the PNG specification (ISO/IEC 15948): chunk layout, the five scanline filters
 * and the Paeth predictor. Chunk CRCs are verified; a short or corrupt stream is an error, never a
 * partly black image. Other layouts (16-bit, sub-byte depths, Adam7) return {@code null} and the
 * caller falls back to ImageIO.
 */
final class PngDecoder {
  static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private PngDecoder() {}

  static boolean isPng(byte[] data) {
    if (data.length < SIGNATURE.length) return false;
    for (int i = 0; i < SIGNATURE.length; i++) if (data[i] != SIGNATURE[i]) return false;
    return true;
  }

  /** Decodes {@code data} (a whole PNG file), or returns null when the layout is not handled here. */
  static RgbImage decode(byte[] data) throws IOException {
    int pos = SIGNATURE.length;
    int width = 0;
    int height = 0;
    int colorType = -1;
    byte[] palette = null;
    List<int[]> idat = new ArrayList<>(); // {offset, length} of each IDAT body, inflated in place
    boolean sawEnd = false;
    CRC32 crc = new CRC32();
    while (pos + 8 <= data.length) {
      int len = readInt(data, pos);
      if (len < 0 || pos + 12L + len > data.length) throw new IOException("truncated PNG chunk at byte " + pos);
      int typeAt = pos + 4;
      String type = new String(data, typeAt, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      crc.reset();
      crc.update(data, typeAt, 4 + len);
      if ((int) crc.getValue() != readInt(data, typeAt + 4 + len)) throw new IOException("PNG chunk " + type + " has a bad CRC");
      int body = typeAt + 4;
      switch (type) {
        case "IHDR" -> {
          if (len != 13) throw new IOException("bad PNG IHDR length " + len);
          width = readInt(data, body);
          height = readInt(data, body + 4);
          int depth = data[body + 8] & 0xff;
          colorType = data[body + 9] & 0xff;
          int interlace = data[body + 12] & 0xff;
          if (width <= 0 || height <= 0) throw new IOException("bad PNG size " + width + "x" + height);
          if (depth != 8 || interlace != 0 || channels(colorType) == 0) return null;
          if ((long) width * height > Integer.MAX_VALUE / 4) return null;
        }
        case "PLTE" -> {
          palette = new byte[768];
          System.arraycopy(data, body, palette, 0, Math.min(len, 768));
        }
        case "IDAT" -> idat.add(new int[] {body, len});
        case "IEND" -> sawEnd = true;
        default -> {} // ancillary chunks (gAMA, iCCP, tRNS, text) do not change convert("RGB")
      }
      pos = body + len + 4;
      if (sawEnd) break;
    }
    if (colorType < 0) throw new IOException("PNG without IHDR");
    if (!sawEnd) throw new IOException("truncated PNG (no IEND chunk)");
    if (colorType == 3 && palette == null) throw new IOException("palette PNG without PLTE chunk");
    int bpp = channels(colorType);
    int stride = width * bpp;
    byte[] raw = new byte[(stride + 1) * height];
    Inflater inflater = new Inflater();
    try {
      int n = 0;
      for (int[] chunk : idat) {
        inflater.setInput(data, chunk[0], chunk[1]);
        while (n < raw.length && !inflater.needsInput() && !inflater.finished()) {
          int k = inflater.inflate(raw, n, raw.length - n);
          if (k == 0 && inflater.needsDictionary()) break;
          n += k;
        }
        if (n == raw.length || inflater.finished()) break;
      }
      if (n < raw.length) throw new IOException("truncated PNG image data (" + n + " of " + raw.length + " bytes)");
    } catch (DataFormatException e) {
      throw new IOException("corrupt PNG image data: " + e.getMessage(), e);
    } finally {
      inflater.end();
    }
    unfilter(raw, height, stride, bpp);
    return toRgb(raw, width, height, stride, colorType, palette);
  }

  /** Samples per pixel of the handled color types; 0 for an invalid type. */
  private static int channels(int colorType) {
    return switch (colorType) {
      case 0, 3 -> 1;
      case 2 -> 3;
      case 4 -> 2;
      case 6 -> 4;
      default -> 0;
    };
  }

  /** Reverses the per-row filters in place; row {@code y} occupies {@code raw[y*(stride+1)+1 ..]}. */
  private static void unfilter(byte[] raw, int height, int stride, int bpp) throws IOException {
    for (int y = 0; y < height; y++) {
      int row = y * (stride + 1);
      int cur = row + 1;
      int prev = row - stride; // previous row's first sample (invalid for y == 0)
      int filter = raw[row];
      switch (filter) {
        case 0 -> {}
        case 1 -> {
          for (int i = bpp; i < stride; i++) raw[cur + i] += raw[cur + i - bpp];
        }
        case 2 -> {
          if (y > 0) for (int i = 0; i < stride; i++) raw[cur + i] += raw[prev + i];
        }
        case 3 -> {
          for (int i = 0; i < stride; i++) {
            int left = i >= bpp ? raw[cur + i - bpp] & 0xff : 0;
            int up = y > 0 ? raw[prev + i] & 0xff : 0;
            raw[cur + i] += (byte) ((left + up) >>> 1);
          }
        }
        case 4 -> {
          for (int i = 0; i < stride; i++) {
            int a = i >= bpp ? raw[cur + i - bpp] & 0xff : 0;
            int b = y > 0 ? raw[prev + i] & 0xff : 0;
            int c = i >= bpp && y > 0 ? raw[prev + i - bpp] & 0xff : 0;
            raw[cur + i] += (byte) paeth(a, b, c);
          }
        }
        default -> throw new IOException("bad PNG filter type " + filter + " in row " + y);
      }
    }
  }

  private static int paeth(int a, int b, int c) {
    int p = a + b - c;
    int pa = Math.abs(p - a);
    int pb = Math.abs(p - b);
    int pc = Math.abs(p - c);
    if (pa <= pb && pa <= pc) return a;
    return pb <= pc ? b : c;
  }

  private static RgbImage toRgb(byte[] raw, int w, int h, int stride, int colorType, byte[] palette) {
    byte[] out = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      int s = y * (stride + 1) + 1;
      int d = y * w * 3;
      switch (colorType) {
        case 2 -> System.arraycopy(raw, s, out, d, stride);
        case 6 -> {
          for (int x = 0; x < w; x++, s += 4, d += 3) {
            out[d] = raw[s];
            out[d + 1] = raw[s + 1];
            out[d + 2] = raw[s + 2];
          }
        }
        case 0, 4 -> {
          int step = colorType == 0 ? 1 : 2;
          for (int x = 0; x < w; x++, s += step, d += 3) {
            byte g = raw[s];
            out[d] = g;
            out[d + 1] = g;
            out[d + 2] = g;
          }
        }
        default -> { // 3: palette
          for (int x = 0; x < w; x++, s++, d += 3) {
            int p = (raw[s] & 0xff) * 3;
            out[d] = palette[p];
            out[d + 1] = palette[p + 1];
            out[d + 2] = palette[p + 2];
          }
        }
      }
    }
    return new RgbImage(w, h, out);
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }
}
