package dev.cvmkms.kms.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as written in {@code kms.toml}: a plain integer (bytes) or a number with a unit, as
 * Rocket's limits accept them: {@code "64KiB"}, {@code "1 MiB"}, {@code "500kB"}. Binary units
 * (KiB, MiB, GiB) are powers of 1024, decimal units (kB, MB, GB) powers of 1000; units are
 * case-insensitive.
 */
public final class ByteSizes {
  public static final long KIB = 1024;
  public static final long MIB = 1024 * KIB;

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([a-z]*)");

  private ByteSizes() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException with a message suitable for appending to a key name
   */
  public static long parse(String text) {
    String s = text.strip();
    Matcher m = SIZE.matcher(s.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "must be a size such as 65536, \"64KiB\" or \"1MiB\", got \"" + s + "\"");
    }
    long unit =
        switch (m.group(2)) {
          case "", "b" -> 1;
          case "kb" -> 1000;
          case "kib" -> KIB;
          case "mb" -> 1000 * 1000;
          case "mib" -> MIB;
          case "gb" -> 1000L * 1000 * 1000;
          case "gib" -> 1024 * MIB;
          default ->
              throw new IllegalArgumentException(
                  "has an unknown size unit \""
                      + m.group(2)
                      + "\" (use B, KiB, MiB, GiB, kB, MB, GB)");
        };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("is too large: \"" + s + "\"", e);
    }
  }

  /** Renders {@code bytes} in the largest binary unit that divides it, e.g. {@code "64KiB"}. */
  public static String format(long bytes) {
    if (bytes != 0 && bytes % MIB == 0) return bytes / MIB + "MiB";
    if (bytes != 0 && bytes % KIB == 0) return bytes / KIB + "KiB";
    return bytes + "B";
  }
}
