package dev.cvmkms.kms.auth;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A short, printable excerpt of an upstream error body for messages. Cut on a UTF-8 character
 * boundary (dstack could panic slicing a String at byte 512), control characters flattened so the
 * text cannot forge log lines.
 */
final class Excerpt {
  private Excerpt() {}

  static String of(byte[] body, int maxBytes) {
    if (body == null || body.length == 0) {
      return "";
    }
    int n = Math.min(body.length, maxBytes);
    CharsetDecoder dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    CharBuffer out = CharBuffer.allocate(n + 1);
    ByteBuffer in = ByteBuffer.wrap(body, 0, n);
    // endOfInput=false: an incomplete character at the cut is left undecoded, not replaced.
    dec.decode(in, out, false);
    out.flip();
    StringBuilder sb = new StringBuilder(out.length() + 3);
    for (int i = 0; i < out.length(); i++) {
      char c = out.charAt(i);
      sb.append(Character.isISOControl(c) ? ' ' : c);
    }
    String s = sb.toString().strip();
    return n < body.length ? s + "..." : s;
  }
}
