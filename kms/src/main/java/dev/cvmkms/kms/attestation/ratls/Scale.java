package dev.cvmkms.kms.attestation.ratls;

import dev.cvmkms.kms.attestation.AttestationException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The subset of Parity SCALE that dstack's V0 attestation and CSRs use. Bounds-checked. */
public final class Scale {
  private Scale() {}

  /** A SCALE reader over a byte array; every overrun is MALFORMED. */
  public static final class Reader {
    private final byte[] b;
    private int pos;

    public Reader(byte[] b) {
      this.b = b;
    }

    public int position() {
      return pos;
    }

    public boolean atEnd() {
      return pos == b.length;
    }

    private void need(long n, String what) {
      if (n < 0 || n > b.length - pos) {
        throw AttestationException.malformed("SCALE: truncated at " + what);
      }
    }

    public int u8(String what) {
      need(1, what);
      return b[pos++] & 0xff;
    }

    public long u32(String what) {
      need(4, what);
      long v = 0;
      for (int i = 3; i >= 0; i--) {
        v = v << 8 | (b[pos + i] & 0xff);
      }
      pos += 4;
      return v;
    }

    public long u64(String what) {
      need(8, what);
      long v = 0;
      for (int i = 7; i >= 0; i--) {
        v = v << 8 | (b[pos + i] & 0xff);
      }
      pos += 8;
      return v;
    }

    /** A compact integer that must fit in an int (lengths and counts). */
    public int compact(String what) {
      int first = u8(what);
      long v;
      switch (first & 3) {
        case 0 -> v = first >>> 2;
        case 1 -> {
          v = (first | u8(what) << 8) >>> 2;
        }
        case 2 -> {
          pos--;
          v = u32(what) >>> 2;
        }
        default -> {
          int n = (first >>> 2) + 4;
          need(n, what);
          v = 0;
          for (int i = n - 1; i >= 0; i--) {
            if (i >= 4 && b[pos + i] != 0) {
              throw AttestationException.malformed("SCALE: " + what + " too large");
            }
            v = v << 8 | (b[pos + i] & 0xff);
          }
          pos += n;
        }
      }
      if (v > Integer.MAX_VALUE) {
        throw AttestationException.malformed("SCALE: " + what + " too large");
      }
      return (int) v;
    }

    public byte[] fixed(int n, String what) {
      need(n, what);
      byte[] out = Arrays.copyOfRange(b, pos, pos + n);
      pos += n;
      return out;
    }

    public byte[] bytes(String what) {
      int n = compact(what);
      return fixed(n, what);
    }

    public String string(String what) {
      byte[] raw = bytes(what);
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(raw))
            .toString();
      } catch (CharacterCodingException e) {
        throw AttestationException.malformed("SCALE: " + what + " is not UTF-8");
      }
    }

    /** A count of elements each at least {@code minElementSize} bytes long. */
    public int count(String what, int minElementSize) {
      int n = compact(what);
      need((long) n * minElementSize, what);
      return n;
    }

    public boolean bool(String what) {
      int v = u8(what);
      if (v > 1) {
        throw AttestationException.malformed("SCALE: " + what + " is not a bool");
      }
      return v == 1;
    }
  }

  /** A SCALE writer. */
  public static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public Writer u8(int v) {
      out.write(v);
      return this;
    }

    public Writer u32(long v) {
      for (int i = 0; i < 4; i++) {
        out.write((int) (v >>> (8 * i)) & 0xff);
      }
      return this;
    }

    public Writer compact(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("negative compact");
      }
      if (n < 1 << 6) {
        out.write((int) (n << 2));
      } else if (n < 1 << 14) {
        long v = n << 2 | 1;
        out.write((int) v & 0xff);
        out.write((int) (v >>> 8) & 0xff);
      } else if (n < 1 << 30) {
        u32(n << 2 | 2);
      } else {
        int len = 4;
        while (len < 8 && (n >>> (8 * len)) != 0) {
          len++;
        }
        out.write((len - 4) << 2 | 3);
        for (int i = 0; i < len; i++) {
          out.write((int) (n >>> (8 * i)) & 0xff);
        }
      }
      return this;
    }

    public Writer fixed(byte[] b) {
      out.writeBytes(b);
      return this;
    }

    public Writer bytes(byte[] b) {
      compact(b.length);
      out.writeBytes(b);
      return this;
    }

    public Writer string(String s) {
      return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] toByteArray() {
      return out.toByteArray();
    }
  }
}
