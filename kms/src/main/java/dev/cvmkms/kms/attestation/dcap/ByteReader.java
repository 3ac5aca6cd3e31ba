package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import java.util.Arrays;

/**
 * Bounds-checked little-endian reader: every overrun becomes a MALFORMED error naming the field.
 */
final class ByteReader {
  private final byte[] buf;
  private int pos;
  private final int limit;

  ByteReader(byte[] buf, int pos, int limit) {
    this.buf = buf;
    this.pos = pos;
    this.limit = limit;
  }

  int position() {
    return pos;
  }

  int remaining() {
    return limit - pos;
  }

  private void need(int n, String field) {
    if (n < 0 || n > limit - pos) {
      throw AttestationException.malformed(
          "quote truncated at " + field + " (offset " + pos + ", need " + n + ")");
    }
  }

  int u16(String field) {
    need(2, field);
    int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8;
    pos += 2;
    return v;
  }

  long u32(String field) {
    need(4, field);
    long v =
        (buf[pos] & 0xffL)
            | (buf[pos + 1] & 0xffL) << 8
            | (buf[pos + 2] & 0xffL) << 16
            | (buf[pos + 3] & 0xffL) << 24;
    pos += 4;
    return v;
  }

  /** A u32 length that must fit in what is left (and in an int). */
  int length(String field) {
    long v = u32(field);
    if (v > remaining()) {
      throw AttestationException.malformed(
          field + " = " + v + " exceeds the " + remaining() + " bytes left");
    }
    return (int) v;
  }

  byte[] bytes(int n, String field) {
    need(n, field);
    byte[] out = Arrays.copyOfRange(buf, pos, pos + n);
    pos += n;
    return out;
  }

  static int u16(byte[] b, int off) {
    return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
  }

  static long u64(byte[] b) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = v << 8 | (b[i] & 0xff);
    }
    return v;
  }
}
