package ai.promptline.cli;

import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A strict, local check of a standard 5-field cron expression ({@code minute hour day-of-month
 * month day-of-week}), so that {@code campaign schedule} refuses a bad one before anything is
 * written or created. Each field is {@code *}, a value, a range {@code a-b}, a step {@code
 * *}{@code /n} or {@code a-b/n}, or a comma list of those; months and weekdays also by name
 * ({@code JAN}, {@code MON}); weekday 0 and 7 are Sunday. The macros {@code @hourly}, {@code
 * @daily}, {@code @midnight}, {@code @weekly}, {@code @monthly}, {@code @yearly} and {@code
 * @annually} stand for their 5-field forms. Everything it accepts, Temporal's schedule spec
 * accepts too; a day of month that no listed month has (e.g. {@code 0 0 31 2 *}) is refused, since
 * the schedule would never fire.
 */
final class Cron {
  private Cron() {}

  static final String EXAMPLE = "e.g. \"0 2 * * *\" is every day at 02:00";

  private static final String FORM = "minute hour day-of-month month day-of-week";

  private record Field(String name, int min, int max, List<String> names) {}

  private static final List<String> MONTHS = List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
      "NOV", "DEC");
  private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

  private static final List<Field> FIELDS = List.of(
      new Field("minute", 0, 59, List.of()),
      new Field("hour", 0, 23, List.of()),
      new Field("day-of-month", 1, 31, List.of()),
      new Field("month", 1, 12, MONTHS),
      new Field("day-of-week", 0, 7, DAYS));

  private static final Map<String, String> MACROS = Map.of(
      "@hourly", "0 * * * *", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@weekly", "0 0 * * 0",
      "@monthly", "0 0 1 * *", "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *");

  /** Days in each month at most (February: 29). */
  private static final int[] MONTH_DAYS = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

  /**
   * The expression in 5-field form (a macro expanded, whitespace normalized); an {@link
   * IllegalArgumentException} naming the bad field, what it must be, and an example otherwise.
   */
  static String validate(String expression) {
    if (expression == null || expression.isBlank())
      throw bad(expression, "it is empty; give 5 fields: " + FORM);
    String e = expression.strip();
    if (e.startsWith("@")) {
      String m = MACROS.get(e.toLowerCase(Locale.ROOT));
      if (m == null)
        throw bad(expression, "unknown macro '" + e + "'; use one of @hourly, @daily, @weekly, @monthly, @yearly, or 5 fields: " + FORM);
      return m;
    }
    if (e.toUpperCase(Locale.ROOT).startsWith("CRON_TZ=") || e.toUpperCase(Locale.ROOT).startsWith("TZ="))
      throw bad(expression, "a time zone prefix is not part of the expression; give it with --time-zone");
    String[] f = e.split("\\s+");
    if (f.length != 5)
      throw bad(expression, "it has " + f.length + " field" + (f.length == 1 ? "" : "s") + "; give exactly 5: " + FORM
          + (f.length == 6 ? " (no seconds field)" : ""));
    BitSet[] sets = new BitSet[5];
    for (int i = 0; i < 5; i++) sets[i] = parseField(expression, FIELDS.get(i), i + 1, f[i]);
    // day-of-month restricted, day-of-week not: some listed month must have one of the listed days
    if (!"*".equals(f[2]) && "*".equals(f[4])) {
      int firstDay = sets[2].nextSetBit(1);
      boolean fires = false;
      for (int m = sets[3].nextSetBit(1); m >= 0 && !fires; m = sets[3].nextSetBit(m + 1)) fires = firstDay <= MONTH_DAYS[m - 1];
      if (!fires)
        throw bad(expression, "field 3 (day-of-month) '" + f[2] + "' never occurs in field 4 (month) '" + f[3]
            + "', so the schedule would never run");
    }
    return String.join(" ", f);
  }

  private static BitSet parseField(String expression, Field field, int position, String text) {
    String where = "field " + position + " (" + field.name() + ") '" + text + "'";
    BitSet set = new BitSet(field.max() + 1);
    for (String item : text.split(",", -1)) {
      if (item.isEmpty()) throw bad(expression, where + " has an empty list item; separate values with single commas, e.g. 1,15");
      String range = item;
      int step = 1;
      int slash = item.indexOf('/');
      if (slash >= 0) {
        range = item.substring(0, slash);
        String s = item.substring(slash + 1);
        if (!s.matches("[0-9]{1,4}") || Integer.parseInt(s) < 1 || Integer.parseInt(s) > field.max() - field.min() + 1)
          throw bad(expression, where + ": the step '" + s + "' must be a whole number from 1 to " + (field.max() - field.min() + 1)
              + ", e.g. */15");
        step = Integer.parseInt(s);
      }
      int lo;
      int hi;
      if (range.equals("*")) {
        lo = field.min();
        hi = field.max();
      } else {
        int dash = range.indexOf('-');
        if (dash == 0) throw bad(expression, where + ": '" + range + "' is not a value; negative numbers have no meaning in cron");
        if (dash > 0) {
          lo = value(expression, field, where, range.substring(0, dash));
          hi = value(expression, field, where, range.substring(dash + 1));
          if (lo > hi)
            throw bad(expression, where + ": the range " + range + " runs backwards; write it low-high, e.g. 1-5 (or a list 5,6,0)");
        } else {
          if (slash >= 0)
            throw bad(expression, where + ": a step needs * or a range before it; write */" + step + " or " + range + "-" + field.max() + "/"
                + step);
          lo = value(expression, field, where, range);
          hi = lo;
        }
      }
      for (int v = lo; v <= hi; v += step) set.set(v);
    }
    if (field.name().equals("day-of-week") && set.get(7)) set.set(0);
    return set;
  }

  private static int value(String expression, Field field, String where, String v) {
    if (v.matches("[0-9]{1,4}")) {
      int n = Integer.parseInt(v);
      if (n < field.min() || n > field.max())
        throw bad(expression, where + ": " + field.name() + " " + n + " is out of range; it must be " + field.min() + "-" + field.max()
            + (field.name().equals("day-of-week") ? " (0 and 7 are Sunday) or SUN-SAT" : field.names().isEmpty() ? "" : " or JAN-DEC"));
      return n;
    }
    int i = field.names().indexOf(v.toUpperCase(Locale.ROOT));
    if (i >= 0) return field.names() == MONTHS ? i + 1 : i;
    String allowed = field.names().isEmpty() ? "a number " + field.min() + "-" + field.max()
        : "a number " + field.min() + "-" + field.max() + " or a name " + field.names().get(0) + "-" + field.names().get(field.names().size() - 1);
    throw bad(expression, where + ": '" + v + "' is not " + allowed);
  }

  private static IllegalArgumentException bad(String expression, String why) {
    return new IllegalArgumentException("--cron \"" + (expression == null ? "" : expression) + "\" is not a valid cron expression: " + why
        + " (" + FORM + "; " + EXAMPLE + ")");
  }
}
