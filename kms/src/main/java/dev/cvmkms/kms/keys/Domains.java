package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.KmsException;

/** The RPC domain rules of dstack's {@code validate_onboarding_domain} (spec §5.2). */
public final class Domains {
  private static final int MAX_LENGTH = 253;
  private static final int MAX_LABEL = 63;

  private Domains() {}

  /**
   * Returns {@code domain} if it is a valid RPC domain: non-empty ASCII of at most 253 bytes, dot
   * separated labels of 1–63 characters from {@code [A-Za-z0-9-]} that neither start nor end with
   * {@code -}. IPv4 literals pass.
   *
   * @throws KmsException of kind INVALID_REQUEST naming the rule that failed
   */
  public static String validate(String domain) {
    if (domain == null || domain.isEmpty()) {
      throw KmsException.invalid("domain must not be empty");
    }
    if (domain.length() > MAX_LENGTH) {
      throw KmsException.invalid("domain is longer than " + MAX_LENGTH + " bytes");
    }
    for (String label : domain.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > MAX_LABEL) {
        throw KmsException.invalid("domain label must be 1 to " + MAX_LABEL + " characters long");
      }
      for (int i = 0; i < label.length(); i++) {
        if (!isLabelChar(label.charAt(i))) {
          throw KmsException.invalid("domain may only contain letters, digits, '-' and '.'");
        }
      }
      if (label.startsWith("-") || label.endsWith("-")) {
        throw KmsException.invalid("domain label must not start or end with '-'");
      }
    }
    return domain;
  }

  /**
   * Whether {@code s} is an IPv4 literal as Rust's {@code Ipv4Addr} parses it: four decimal octets,
   * no leading zeros. Decides between an iPAddress and a dNSName SAN.
   */
  public static boolean isIpv4Literal(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')) {
        return false;
      }
      for (int i = 0; i < part.length(); i++) {
        if (part.charAt(i) < '0' || part.charAt(i) > '9') {
          return false;
        }
      }
      if (Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }

  private static boolean isLabelChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  }
}
