package dev.cvmkms.kms.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Duration strings as written in {@code kms.toml}. Accepts dstack's serde-duration form ({@code
 * "30s"}, {@code "2m"}, {@code "1h"}, {@code "1d"}) plus milliseconds ({@code "500ms"}) and
 * compound values ({@code "1m30s"}). dstack's {@code "never"} is refused: every timeout here must
 * be bounded.
 */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Durations() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException with a message suitable for appending to a key name
   */
  public static Duration parse(String text) {
    String s = text.strip();
    if (s.isEmpty()) {
      throw new IllegalArgumentException("must be a duration such as \"30s\", got an empty string");
    }
    if (s.equals("never")) {
      throw new IllegalArgumentException("must be a bounded duration, \"never\" is not accepted");
    }
    Matcher m = PART.matcher(s);
    Duration total = Duration.ZERO;
    int pos = 0;
    while (pos < s.length()) {
      if (!m.find(pos) || m.start() != pos) {
        throw new IllegalArgumentException(
            "must be a duration such as \"500ms\", \"30s\", \"2m\", \"1h\", \"1d\" or \"1m30s\", got \""
                + s
                + "\"");
      }
      try {
        long n = Long.parseLong(m.group(1));
        Duration part =
            switch (m.group(2)) {
              case "ms" -> Duration.ofMillis(n);
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              case "h" -> Duration.ofHours(n);
              default -> Duration.ofDays(n);
            };
        total = total.plus(part);
      } catch (ArithmeticException | NumberFormatException e) {
        throw new IllegalArgumentException("is too large: \"" + s + "\"", e);
      }
      pos = m.end();
    }
    return total;
  }

  /** Renders {@code d} in the form {@link #parse} accepts, e.g. {@code "1m30s"}. */
  public static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    StringBuilder b = new StringBuilder();
    long days = d.toDays();
    if (days > 0) b.append(days).append('d');
    if (d.toHoursPart() > 0) b.append(d.toHoursPart()).append('h');
    if (d.toMinutesPart() > 0) b.append(d.toMinutesPart()).append('m');
    if (d.toSecondsPart() > 0) b.append(d.toSecondsPart()).append('s');
    if (d.toMillisPart() > 0) b.append(d.toMillisPart()).append("ms");
    return b.toString();
  }
}
