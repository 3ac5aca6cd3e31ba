package dev.cvmkms.kms.attestation.ratls;

import dev.cvmkms.kms.attestation.AttestationException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A small MessagePack codec: enough for dstack's V1 attestation (maps with string keys, arrays,
 * strings, bin, integers, bool, nil). Decoding yields {@code Map<String,Object>}, {@code
 * List<Object>}, {@code String}, {@code byte[]}, {@code Long}, {@code Double}, {@code Boolean} or
 * null, with depth and length bounds so hostile input is a clean MALFORMED error.
 */
public final class MsgPack {
  private static final int MAX_DEPTH = 32;

  private MsgPack() {}

  /** Decodes exactly one value; trailing bytes are an error. */
  public static @Nullable Object decode(byte[] b) {
    Decoder d = new Decoder(b);
    Object v = d.value(0);
    if (d.pos != b.length) {
      throw AttestationException.malformed("msgpack: trailing bytes");
    }
    return v;
  }

  private static final class Decoder {
    final byte[] b;
    int pos;

    Decoder(byte[] b) {
      this.b = b;
    }

    void need(long n) {
      if (n < 0 || n > b.length - pos) {
        throw AttestationException.malformed("msgpack: truncated");
      }
    }

    int u8() {
      need(1);
      return b[pos++] & 0xff;
    }

    long be(int n) {
      need(n);
      long v = 0;
      for (int i = 0; i < n; i++) {
        v = v << 8 | (b[pos++] & 0xff);
      }
      return v;
    }

    int len(int n) {
      long v = be(n);
      if (v > Integer.MAX_VALUE) {
        throw AttestationException.malformed("msgpack: length too large");
      }
      return (int) v;
    }

    @Nullable Object value(int depth) {
      if (depth > MAX_DEPTH) {
        throw AttestationException.malformed("msgpack: nested too deeply");
      }
      int t = u8();
      if (t <= 0x7f) {
        return (long) t;
      }
      if (t >= 0xe0) {
        return (long) (byte) t;
      }
      if (t >= 0x80 && t <= 0x8f) {
        return map(t & 0x0f, depth);
      }
      if (t >= 0x90 && t <= 0x9f) {
        return array(t & 0x0f, depth);
      }
      if (t >= 0xa0 && t <= 0xbf) {
        return str(t & 0x1f);
      }
      return switch (t) {
        case 0xc0 -> null;
        case 0xc2 -> false;
        case 0xc3 -> true;
        case 0xc4 -> raw(len(1));
        case 0xc5 -> raw(len(2));
        case 0xc6 -> raw(len(4));
        case 0xca -> (double) Float.intBitsToFloat((int) be(4));
        case 0xcb -> Double.longBitsToDouble(be(8));
        case 0xcc -> be(1);
        case 0xcd -> be(2);
        case 0xce -> be(4);
        case 0xcf -> {
          long v = be(8);
          if (v < 0) {
            throw AttestationException.malformed("msgpack: uint64 out of range");
          }
          yield v;
        }
        case 0xd0 -> (long) (byte) be(1);
        case 0xd1 -> (long) (short) be(2);
        case 0xd2 -> (long) (int) be(4);
        case 0xd3 -> be(8);
        case 0xd9 -> str(len(1));
        case 0xda -> str(len(2));
        case 0xdb -> str(len(4));
        case 0xdc -> array(len(2), depth);
        case 0xdd -> array(len(4), depth);
        case 0xde -> map(len(2), depth);
        case 0xdf -> map(len(4), depth);
        default ->
            throw AttestationException.malformed(
                "msgpack: unsupported type 0x" + Integer.toHexString(t));
      };
    }

    byte[] raw(int n) {
      need(n);
      byte[] out = Arrays.copyOfRange(b, pos, pos + n);
      pos += n;
      return out;
    }

    String str(int n) {
      byte[] raw = raw(n);
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(raw))
            .toString();
      } catch (CharacterCodingException e) {
        throw AttestationException.malformed("msgpack: string is not UTF-8");
      }
    }

    List<Object> array(int n, int depth) {
      need(n); // every element takes at least one byte
      List<Object> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(value(depth + 1));
      }
      return out;
    }

    Map<String, Object> map(int n, int depth) {
      need(2L * n);
      Map<String, Object> out = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        Object k = value(depth + 1);
        if (!(k instanceof String key)) {
          throw AttestationException.malformed("msgpack: map key is not a string");
        }
        out.put(key, value(depth + 1));
      }
      return out;
    }
  }

  /** A MessagePack writer producing the compact forms rmp-serde uses. */
  public static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public Writer map(int n) {
      if (n < 16) {
        out.write(0x80 | n);
      } else {
        out.write(0xde);
        be(n, 2);
      }
      return this;
    }

    public Writer array(int n) {
      if (n < 16) {
        out.write(0x90 | n);
      } else if (n < 65536) {
        out.write(0xdc);
        be(n, 2);
      } else {
        out.write(0xdd);
        be(n, 4);
      }
      return this;
    }

    public Writer str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      if (b.length < 32) {
        out.write(0xa0 | b.length);
      } else if (b.length < 256) {
        out.write(0xd9);
        be(b.length, 1);
      } else if (b.length < 65536) {
        out.write(0xda);
        be(b.length, 2);
      } else {
        out.write(0xdb);
        be(b.length, 4);
      }
      out.writeBytes(b);
      return this;
    }

    public Writer bin(byte[] b) {
      if (b.length < 256) {
        out.write(0xc4);
        be(b.length, 1);
      } else if (b.length < 65536) {
        out.write(0xc5);
        be(b.length, 2);
      } else {
        out.write(0xc6);
        be(b.length, 4);
      }
      out.writeBytes(b);
      return this;
    }

    public Writer uint(long v) {
      if (v < 0) {
        throw new IllegalArgumentException("negative");
      }
      if (v < 128) {
        out.write((int) v);
      } else if (v < 256) {
        out.write(0xcc);
        be(v, 1);
      } else if (v < 65536) {
        out.write(0xcd);
        be(v, 2);
      } else if (v < 1L << 32) {
        out.write(0xce);
        be(v, 4);
      } else {
        out.write(0xcf);
        be(v, 8);
      }
      return this;
    }

    /** A plain {@code Vec<u8>} as rmp-serde writes it: an array of small integers. */
    public Writer intArray(byte[] b) {
      array(b.length);
      for (byte x : b) {
        uint(x & 0xff);
      }
      return this;
    }

    private void be(long v, int n) {
      for (int i = n - 1; i >= 0; i--) {
        out.write((int) (v >>> (8 * i)) & 0xff);
      }
    }

    public byte[] toByteArray() {
      return out.toByteArray();
    }
  }
}
