package dev.cvmkms.kms.attestation.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A minimal HTTP/1.1 client over a Unix domain socket (the JDK's HttpClient cannot use one): one
 * request per connection, {@code Connection: close}, an overall deadline enforced with a selector,
 * and a cap on the response size.
 */
final class UnixHttp {
  @SuppressWarnings("ArrayRecordComponent") // wire view; never compared or hashed
  record Response(int status, byte[] body) {}

  private UnixHttp() {}

  static Response post(Path socket, String path, byte[] body, Duration timeout, int maxBytes)
      throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String head =
        "POST "
            + path
            + " HTTP/1.1\r\nHost: dstack\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    ByteBuffer out = ByteBuffer.wrap(concat(head.getBytes(StandardCharsets.US_ASCII), body));
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        Selector sel = Selector.open()) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.configureBlocking(false);
      SelectionKey key = ch.register(sel, SelectionKey.OP_WRITE);
      ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new java.net.SocketTimeoutException(
              "no answer within " + timeout.toMillis() + " ms");
        }
        sel.select(Math.max(1, left / 1_000_000));
        if (key.isWritable() && out.hasRemaining()) {
          ch.write(out);
          if (!out.hasRemaining()) {
            key.interestOps(SelectionKey.OP_READ);
          }
        } else if (key.isReadable()) {
          buf.clear();
          int n = ch.read(buf);
          if (n < 0) {
            break;
          }
          in.write(buf.array(), 0, n);
          if (in.size() > maxBytes) {
            throw new IOException("response larger than " + maxBytes + " bytes");
          }
          Response done = tryParse(in.toByteArray());
          if (done != null) {
            return done;
          }
        }
        sel.selectedKeys().clear();
      }
    }
    Response r = tryParse(in.toByteArray());
    if (r == null) {
      throw new IOException("truncated HTTP response");
    }
    return r;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] o = new byte[a.length + b.length];
    System.arraycopy(a, 0, o, 0, a.length);
    System.arraycopy(b, 0, o, a.length, b.length);
    return o;
  }

  /** A complete response, or null if more bytes are needed (body ends at EOF if unsized). */
  static @Nullable Response tryParse(byte[] raw) throws IOException {
    int end = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
    if (end < 0) {
      return null;
    }
    String[] lines = new String(raw, 0, end, StandardCharsets.ISO_8859_1).split("\r\n", -1);
    String[] status = lines[0].split(" ", 3);
    if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP response");
    }
    int code;
    try {
      code = Integer.parseInt(status[1]);
    } catch (NumberFormatException e) {
      throw new IOException("bad HTTP status line");
    }
    long length = -1;
    boolean chunked = false;
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      if (c < 0) {
        continue;
      }
      String name = lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(c + 1).trim();
      if (name.equals("content-length")) {
        try {
          length = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IOException("bad Content-Length");
        }
      } else if (name.equals("transfer-encoding")
          && value.toLowerCase(Locale.ROOT).contains("chunked")) {
        chunked = true;
      }
    }
    int bodyStart = end + 4;
    if (chunked) {
      return dechunk(code, raw, bodyStart);
    }
    if (length >= 0) {
      if (raw.length - bodyStart < length) {
        return null;
      }
      return new Response(
          code, java.util.Arrays.copyOfRange(raw, bodyStart, bodyStart + (int) length));
    }
    return null; // read to EOF
  }

  private static @Nullable Response dechunk(int code, byte[] raw, int pos) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      int eol = indexOf(raw, new byte[] {'\r', '\n'}, pos);
      if (eol < 0) {
        return null;
      }
      String line = new String(raw, pos, eol - pos, StandardCharsets.US_ASCII);
      int ext = line.indexOf(';'); // chunk extensions follow the size
      String size = (ext < 0 ? line : line.substring(0, ext)).trim();
      int n;
      try {
        n = Integer.parseInt(size, 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size");
      }
      if (n < 0) {
        throw new IOException("bad chunk size");
      }
      if (n == 0) {
        return new Response(code, body.toByteArray());
      }
      if (raw.length < (long) eol + 2 + n + 2) {
        return null;
      }
      body.write(raw, eol + 2, n);
      pos = eol + 2 + n + 2;
    }
  }

  private static int indexOf(byte[] h, byte[] n, int from) {
    outer:
    for (int i = from; i <= h.length - n.length; i++) {
      for (int j = 0; j < n.length; j++) {
        if (h[i + j] != n[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
