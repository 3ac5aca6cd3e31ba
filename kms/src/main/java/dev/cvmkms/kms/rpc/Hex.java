package dev.cvmkms.kms.rpc;

import dev.cvmkms.kms.KmsException;
import java.util.HexFormat;

/** pRPC's hex for {@code bytes}: lowercase out; in, any case and leading {@code 0x}es stripped. */
final class Hex {
  private static final HexFormat HEX = HexFormat.of();

  private Hex() {}

  static String encode(byte[] bytes) {
    return HEX.formatHex(bytes);
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
    // ASCII digits and letters in either case only (HexFormat's rule); name the first bad one.
    for (int i = start; i < text.length(); i++) {
      if (!HexFormat.isHexDigit(text.charAt(i))) {
        throw KmsException.invalid(
            "invalid hex in field " + field + ": non-hex character at position " + i);
      }
    }
    return HEX.parseHex(text, start, text.length());
  }
}
