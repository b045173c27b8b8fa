package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The local cron check of {@code campaign schedule}: what it accepts, and the line it refuses the rest with. */
class CronTest {
  @ParameterizedTest
  @ValueSource(strings = {"0 2 * * *", "*/15 * * * *", "0 2 * * MON-FRI", "30 1 1,15 * *", "0 0 * * 7", "0 0 * * 0",
      "0 9-17/2 * JAN-MAR sun", "59 23 31 12 6", "0 0 29 2 *", "0 0 31 1,2 *", "0-30/10 1,2,3 1-7 */3 1-5", "0 0 1 jan *"})
  void accepts_standardExpressions(String expr) {
    assertEquals(expr, Cron.validate(expr));
  }

  @Test
  void normalizesWhitespace_andExpandsMacros() {
    assertEquals("0 2 * * *", Cron.validate("  0   2 *\t* *  "));
    assertEquals("0 0 * * *", Cron.validate("@daily"));
    assertEquals("0 0 * * *", Cron.validate("@midnight"));
    assertEquals("0 * * * *", Cron.validate("@HOURLY"));
    assertEquals("0 0 * * 0", Cron.validate("@weekly"));
    assertEquals("0 0 1 * *", Cron.validate("@monthly"));
    assertEquals("0 0 1 1 *", Cron.validate("@yearly"));
  }

  /** Each bad expression: the fragments its message must have (the field named, what it must be). */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "0 25 * * *         | field 2 (hour) '25' | must be 0-23",
      "60 * * * *         | field 1 (minute) '60' | must be 0-59",
      "0 0 32 * *         | field 3 (day-of-month) '32' | must be 1-31",
      "0 0 0 * *          | field 3 (day-of-month) '0' | must be 1-31",
      "0 0 * 13 *         | field 4 (month) '13' | must be 1-12 or JAN-DEC",
      "0 0 * * 8          | field 5 (day-of-week) '8' | 0 and 7 are Sunday",
      "0 0 * * FOO        | field 5 (day-of-week) 'FOO' | a number 0-7 or a name SUN-SAT",
      "0 0 * FEBR *       | field 4 (month) 'FEBR' | a name JAN-DEC",
      "0 2 * *            | it has 4 fields | give exactly 5",
      "0 0 2 * * *        | it has 6 fields | no seconds field",
      "daily              | it has 1 field; | give exactly 5",
      "*/0 * * * *        | field 1 (minute) '*/0' | the step '0' must be a whole number from 1 to 60",
      "*/x * * * *        | field 1 (minute) '*/x' | the step 'x'",
      "5/10 * * * *       | a step needs * or a range | write */10 or 5-59/10",
      "30-10 * * * *      | the range 30-10 runs backwards | low-high",
      "-1 * * * *         | field 1 (minute) '-1' | negative numbers",
      "1,,2 * * * *       | field 1 (minute) '1,,2' | empty list item",
      "0 0 31 2 *         | day-of-month) '31' never occurs in field 4 (month) '2' | would never run",
      "0 0 30,31 2 *      | '30,31' never occurs | would never run",
      "0 2 ? * *          | field 3 (day-of-month) '?' | is not a number 1-31",
      "@sometimes         | unknown macro '@sometimes' | @daily",
      "CRON_TZ=UTC 0 2 * * * | time zone prefix | --time-zone",
  })
  void refuses_namingTheFieldAndGivingAnExample(String expr, String want1, String want2) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cron.validate(expr));
    String m = e.getMessage();
    assertTrue(m.startsWith("--cron \"" + expr + "\" is not a valid cron expression: "), m);
    assertTrue(m.contains(want1), "missing '" + want1 + "' in: " + m);
    assertTrue(m.contains(want2), "missing '" + want2 + "' in: " + m);
    assertTrue(m.contains("minute hour day-of-month month day-of-week") && m.contains("e.g. \"0 2 * * *\""), m);
    assertTrue(!m.contains("\n"), m);
  }

  @Test
  void refuses_emptyAndNull() {
    for (String expr : new String[] {"", "   ", null}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cron.validate(expr));
      assertTrue(e.getMessage().contains("it is empty; give 5 fields"), e.getMessage());
    }
  }
}
