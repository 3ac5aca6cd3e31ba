package dev.cvmkms.kms.cli;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * An HTTP response saved with {@code curl -i} (or {@code curl -D- }): status line, headers, a blank
 * line, then the body bytes exactly as received. Interim blocks ({@code 100 Continue}, a proxy's
 * {@code 200 Connection established}) before the final one are skipped. Lines may end in CRLF (as
 * curl writes them) or LF.
 *
 * @param status the final status code
 * @param headers the final block's headers, names lower-cased
 * @param body the bytes after the final block
 */
@SuppressWarnings("ArrayRecordComponent") // a parsed view of a dump; never compared or hashed
record SavedResponse(int status, Map<String, String> headers, byte[] body) {
  static final int MAX_BLOCKS = 8;

  static SavedResponse parse(byte[] dump) {
    int pos = 0;
    for (int block = 0; block < MAX_BLOCKS; block++) {
      int end = headerEnd(dump, pos);
      if (end < 0) {
        throw new IllegalArgumentException(
            "no blank line after the headers: not a `curl -i` dump of a response");
      }
      String head = new String(dump, pos, end - pos, StandardCharsets.ISO_8859_1);
      int bodyStart = end + (dump[end] == '\r' ? 4 : 2);
      // Limit 0 drops trailing empty lines (an LF before a CRLF blank line leaves one).
      String[] lines = head.split("\r?\n", 0);
      int status = statusOf(lines[0]);
      boolean interim =
          status / 100 == 1 || lines[0].toLowerCase(Locale.ROOT).contains("connection established");
      if (interim && startsWithHttp(dump, bodyStart)) {
        pos = bodyStart;
        continue;
      }
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("not a header line: " + excerpt(lines[i]));
        }
        String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = lines[i].substring(colon + 1).trim();
        if (headers.put(name, value) != null && name.startsWith("x-kms-")) {
          throw new IllegalArgumentException("header " + name + " appears twice");
        }
      }
      return new SavedResponse(status, headers, Arrays.copyOfRange(dump, bodyStart, dump.length));
    }
    throw new IllegalArgumentException("more than " + MAX_BLOCKS + " header blocks");
  }

  Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
  }

  private static int statusOf(String statusLine) {
    // "HTTP/1.1 200 OK", "HTTP/2 200"
    String[] parts = statusLine.trim().split(" +", -1); // trimmed: no trailing empty part
    if (parts.length < 2 || !parts[0].startsWith("HTTP/") || !parts[1].matches("[0-9]{3}")) {
      throw new IllegalArgumentException(
          "not an HTTP status line: " + excerpt(statusLine) + " (save the response with curl -i)");
    }
    return Integer.parseInt(parts[1]);
  }

  private static boolean startsWithHttp(byte[] b, int pos) {
    return b.length - pos >= 5
        && new String(b, pos, 5, StandardCharsets.ISO_8859_1).equals("HTTP/");
  }

  /** Index of the CRLFCRLF or LFLF that ends the header block starting at {@code from}. */
  private static int headerEnd(byte[] b, int from) {
    for (int i = from; i < b.length - 1; i++) {
      if (b[i] == '\n' && b[i + 1] == '\n') {
        return i;
      }
      if (i + 3 < b.length
          && b[i] == '\r'
          && b[i + 1] == '\n'
          && b[i + 2] == '\r'
          && b[i + 3] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static String excerpt(String line) {
    String s = line.length() > 60 ? line.substring(0, 60) + "..." : line;
    return "'" + s.replaceAll("\\p{Cntrl}", "?") + "'";
  }

  @Override
  public String toString() {
    return "SavedResponse["
        + status
        + ", "
        + headers.size()
        + " headers, "
        + body.length
        + " bytes]";
  }
}
