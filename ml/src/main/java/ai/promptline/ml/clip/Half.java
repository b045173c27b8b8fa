package ai.promptline.ml.clip;

/** IEEE 754 binary16 → binary32 (Java 17 has no {@code Float.float16ToFloat}). Exact. */
final class Half {
  private Half() {}

  static float toFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h >>> 15) << 31;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // inf / NaN
    if (exp == 0) {
      if (mant == 0) return Float.intBitsToFloat(sign); // ±0
      // subnormal: value = mant · 2^-24
      float v = mant * 0x1.0p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
