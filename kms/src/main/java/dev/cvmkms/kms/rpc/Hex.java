package dev.cvmkms.kms.rpc;

import dev.cvmkms.kms.KmsException;

/** pRPC's hex for {@code bytes}: lowercase out; in, any case and leading {@code 0x}es stripped. */
final class Hex {
  private static final char[] DIGITS = "0123456789abcdef".toCharArray();

  private Hex() {}

  static String encode(byte[] bytes) {
    char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = DIGITS[(bytes[i] >> 4) & 0xf];
      out[2 * i + 1] = DIGITS[bytes[i] & 0xf];
    }
    return new String(out);
  }

  /**
   * Decodes hex for the named field. Like dstack's {@code trim_start_matches("0x")}, every leading
   * lowercase {@code 0x} is removed before decoding.
   */
  static byte[] decode(String text, String field) {
    int start = 0;
    while (text.startsWith("0x", start)) {
      start += 2;
    }
    int len = text.length() - start;
    if (len % 2 != 0) {
      throw KmsException.invalid(
          "invalid hex in field " + field + ": odd number of digits (" + len + ")");
    }
    byte[] out = new byte[len / 2];
    for (int i = 0; i < out.length; i++) {
      int hi = digit(text, start + 2 * i, field);
      int lo = digit(text, start + 2 * i + 1, field);
      out[i] = (byte) ((hi << 4) | lo);
    }
    return out;
  }

  private static int digit(String text, int index, String field) {
    int d = Character.digit(text.charAt(index), 16);
    // Character.digit also accepts non-ASCII digits (e.g. fullwidth); pRPC only takes ASCII.
    if (d < 0 || text.charAt(index) > 'f') {
      throw KmsException.invalid(
          "invalid hex in field " + field + ": non-hex character at position " + index);
    }
    return d;
  }
}
