package dev.cvmkms.autheth.config;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.web3j.crypto.Keys;

/** Ethereum address parsing with the same acceptance rules as ethers' {@code getAddress}. */
public final class Addresses {
  private static final Pattern HEX40 = Pattern.compile("(0x)?[0-9a-fA-F]{40}");

  private Addresses() {}

  /**
   * The lower-case {@code 0x} form, or empty when the text is not 40 hex digits or is mixed case
   * with a wrong EIP-55 checksum (all-lower and all-upper are accepted unchecked).
   */
  public static Optional<String> parse(String text) {
    if (text == null || !HEX40.matcher(text).matches()) {
      return Optional.empty();
    }
    String hex = text.startsWith("0x") ? text.substring(2) : text;
    boolean hasLower = !hex.equals(hex.toUpperCase(Locale.ROOT));
    boolean hasUpper = !hex.equals(hex.toLowerCase(Locale.ROOT));
    String lower = "0x" + hex.toLowerCase(Locale.ROOT);
    if (hasLower && hasUpper && !checksummed(lower).equals("0x" + hex)) {
      return Optional.empty();
    }
    return Optional.of(lower);
  }

  /** EIP-55 mixed-case form. */
  public static String checksummed(String address) {
    return Keys.toChecksumAddress(address);
  }
}
