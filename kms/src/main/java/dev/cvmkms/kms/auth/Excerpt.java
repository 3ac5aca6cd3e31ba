package dev.cvmkms.kms.auth;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * A short, printable excerpt of an upstream error body for messages. Cut on a UTF-8 character
 * boundary (dstack could panic slicing a String at byte 512), control characters flattened so the
 * text cannot forge log lines, and URLs reduced to scheme and host: an upstream error text may
 * quote its RPC URL with an API key in the path, query or userinfo.
 */
final class Excerpt {
  private static final int WINDOW = 4096;
  private static final Pattern URL =
      Pattern.compile(
          "(?i)\\b([a-z][a-z0-9+.-]*)://(?:[^\\s/?#@\"']*@)?([^\\s/?#@\"']+)[^\\s\"']*");

  private Excerpt() {}

  static String of(byte[] body, int maxBytes) {
    if (body == null || body.length == 0) {
      return "";
    }
    // Scrub a wider window first, so a URL is never cut before it is recognised.
    int window = Math.min(body.length, Math.max(maxBytes, WINDOW));
    String text = prefix(body, window);
    StringBuilder sb = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      sb.append(Character.isISOControl(c) ? ' ' : c);
    }
    String scrubbed = URL.matcher(sb).replaceAll("$1://$2/...");
    byte[] utf8 = scrubbed.getBytes(StandardCharsets.UTF_8);
    boolean cut = utf8.length > maxBytes || window < body.length;
    String out = (utf8.length > maxBytes ? prefix(utf8, maxBytes) : scrubbed).strip();
    return cut ? out + "..." : out;
  }

  /** The longest whole-character decoding of the first {@code n} bytes. */
  private static String prefix(byte[] bytes, int n) {
    CharsetDecoder dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    CharBuffer out = CharBuffer.allocate(n + 1);
    // endOfInput=false: an incomplete character at the cut is left undecoded, not replaced.
    dec.decode(ByteBuffer.wrap(bytes, 0, n), out, false);
    out.flip();
    return out.toString();
  }
}
