package ai.promptline.ml.data;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Bit-exact port of CPython 3.11's {@code random.Random} for the operations the benchmark protocol
 * needs (methods.md §1.3): Dassl's few-shot sampler calls {@code random.sample} after
 * {@code random.seed(cfg.SEED)}, so reproducing the published few-shot subsets requires the same
 * MT19937 stream and the same integer-drawing algorithms, not just "a" Mersenne Twister.
 *
 * <ul>
 *   <li>{@link #seed(BigInteger)}: like {@code random.seed(int)}: {@code init_by_array} over the
 *       32-bit little-endian words of {@code abs(seed)} (one zero word for 0).
 *   <li>{@link #getrandbits(int)}: words are drawn least-significant first; a partial top word keeps
 *       the high bits of its draw.
 *   <li>{@link #randbelow(long)}: {@code _randbelow_with_getrandbits}: draw {@code n.bit_length()}
 *       bits, reject values {@code >= n}.
 *   <li>{@link #sample(List, int)}: pool algorithm when {@code n <= setsize}, otherwise rejection
 *       over a set of drawn indices; {@code setsize = 21 (+ 4**ceil(log(3k, 4)) if k > 5)}.
 * </ul>
 *
 * <p>Verified against CPython output by {@code tools/golden/pyrandom_golden.py}. Not thread-safe.
 */
public final class PyRandom {
  private static final int N = 624;
  private static final int M = 397;
  private static final int MATRIX_A = 0x9908b0df;
  private static final int UPPER_MASK = 0x80000000;
  private static final int LOWER_MASK = 0x7fffffff;

  private final int[] mt = new int[N];
  private int mti = N + 1;

  /** A generator seeded like {@code random.Random(seed)}. */
  public PyRandom(long seed) {
    seed(seed);
  }

  /** A generator seeded like {@code random.Random(seed)} for an arbitrary-size int. */
  public PyRandom(BigInteger seed) {
    seed(seed);
  }

  /** {@code random.seed(seed)} for a Python int. */
  public void seed(long seed) {
    seed(BigInteger.valueOf(seed));
  }

  /** {@code random.seed(seed)} for a Python int of any size (the sign is ignored, as in CPython). */
  public void seed(BigInteger seed) {
    BigInteger a = seed.abs();
    int bits = a.bitLength();
    int keyUsed = bits == 0 ? 1 : (bits - 1) / 32 + 1;
    int[] key = new int[keyUsed];
    for (int i = 0; i < keyUsed; i++) {
      key[i] = a.shiftRight(32 * i).intValue(); // low 32 bits of each word
    }
    initByArray(key);
  }

  private void initGenrand(int s) {
    mt[0] = s;
    for (mti = 1; mti < N; mti++) {
      mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
    }
  }

  private void initByArray(int[] key) {
    initGenrand(19650218);
    int i = 1;
    int j = 0;
    for (int k = Math.max(N, key.length); k > 0; k--) {
      mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (int k = N - 1; k > 0; k--) {
      mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = UPPER_MASK; // MSB is 1, assuring a non-zero initial array
    mti = N;
  }

  /** One 32-bit MT19937 output as an unsigned value in an int (use {@code & 0xffffffffL}). */
  private int genrandInt32() {
    int y;
    if (mti >= N) {
      int kk;
      for (kk = 0; kk < N - M; kk++) {
        y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
      }
      y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
      mti = 0;
    }
    y = mt[mti++];
    y ^= (y >>> 11);
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= (y >>> 18);
    return y;
  }

  /** {@code random.random()}: 53-bit float in [0, 1). */
  public double random() {
    long a = (genrandInt32() & 0xffffffffL) >>> 5;
    long b = (genrandInt32() & 0xffffffffL) >>> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  /** {@code random.getrandbits(k)} for {@code 0 <= k <= 63}. */
  public long getrandbits(int k) {
    if (k < 0 || k > 63) {
      if (k < 0) throw new IllegalArgumentException("number of bits must be non-negative");
      throw new IllegalArgumentException("use getrandbitsBig for k > 63, got " + k);
    }
    if (k == 0) return 0;
    if (k <= 32) return (genrandInt32() & 0xffffffffL) >>> (32 - k);
    long lo = genrandInt32() & 0xffffffffL;
    long hi = (genrandInt32() & 0xffffffffL) >>> (64 - k);
    return (hi << 32) | lo;
  }

  /** {@code random.getrandbits(k)} for any {@code k >= 0}. */
  public BigInteger getrandbitsBig(int k) {
    if (k < 0) throw new IllegalArgumentException("number of bits must be non-negative");
    if (k <= 32) return BigInteger.valueOf(getrandbits(k));
    int words = (k - 1) / 32 + 1;
    BigInteger out = BigInteger.ZERO;
    int left = k;
    for (int i = 0; i < words; i++, left -= 32) {
      long r = genrandInt32() & 0xffffffffL;
      if (left < 32) r >>>= (32 - left); // drop least significant bits
      out = out.or(BigInteger.valueOf(r).shiftLeft(32 * i));
    }
    return out;
  }

  /** {@code Random._randbelow(n)} for {@code n > 0} (the getrandbits variant CPython uses). */
  public long randbelow(long n) {
    if (n <= 0) throw new IllegalArgumentException("randbelow needs n > 0, got " + n);
    int k = 64 - Long.numberOfLeadingZeros(n); // n.bit_length()
    long r = getrandbits(k);
    while (r >= n) r = getrandbits(k);
    return r;
  }

  private int randbelowInt(int n) {
    return (int) randbelow(n);
  }

  /** {@code random.randrange(stop)}. */
  public long randrange(long stop) {
    if (stop <= 0) throw new IllegalArgumentException("empty range for randrange(" + stop + ")");
    return randbelow(stop);
  }

  /** {@code random.randrange(start, stop)}. */
  public long randrange(long start, long stop) {
    return randrange(start, stop, 1);
  }

  /** {@code random.randrange(start, stop, step)}. */
  public long randrange(long start, long stop, long step) {
    long width = Math.subtractExact(stop, start);
    if (step == 1) {
      if (width > 0) return start + randbelow(width);
      throw new IllegalArgumentException("empty range in randrange(" + start + ", " + stop + ")");
    }
    if (step == 0) throw new IllegalArgumentException("zero step for randrange()");
    long n = step > 0 ? Math.floorDiv(width + step - 1, step) : Math.floorDiv(width + step + 1, step);
    if (n <= 0) {
      throw new IllegalArgumentException("empty range in randrange(" + start + ", " + stop + ", " + step + ")");
    }
    return start + step * randbelow(n);
  }

  /** {@code random.shuffle(x)} in place. */
  public <T> void shuffle(List<T> x) {
    for (int i = x.size() - 1; i > 0; i--) {
      int j = randbelowInt(i + 1);
      T tmp = x.get(i);
      x.set(i, x.get(j));
      x.set(j, tmp);
    }
  }

  /**
   * {@code random.sample(population, k)}: k distinct elements in selection order. Chooses between
   * the pool and the set algorithm exactly like CPython, since they consume the stream differently.
   */
  public <T> List<T> sample(List<T> population, int k) {
    int n = population.size();
    if (k < 0 || k > n) throw new IllegalArgumentException("Sample larger than population or is negative");
    List<T> result = new ArrayList<>(k);
    if (n <= setsize(k)) {
      List<T> pool = new ArrayList<>(population);
      for (int i = 0; i < k; i++) {
        int j = randbelowInt(n - i);
        result.add(pool.get(j));
        pool.set(j, pool.get(n - i - 1)); // move non-selected item into vacancy
      }
    } else {
      Set<Integer> selected = new HashSet<>();
      for (int i = 0; i < k; i++) {
        int j = randbelowInt(n);
        while (selected.contains(j)) j = randbelowInt(n);
        selected.add(j);
        result.add(population.get(j));
      }
    }
    return result;
  }

  /** CPython's threshold between the pool and the set algorithm of {@code sample}. */
  static long setsize(int k) {
    long setsize = 21;
    if (k > 5) {
      // math.log(x, 4) is log(x)/log(4) in double precision, then ceil.
      double e = Math.ceil(Math.log(k * 3.0) / Math.log(4.0));
      setsize += (long) Math.pow(4, e);
    }
    return setsize;
  }
}
