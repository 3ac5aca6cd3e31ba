package dev.cvmkms.kms.attestation.ratls;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A strict SCALE decoder over a byte array, matching parity-scale-codec 3.x: compact integers must
 * use their shortest form, bools are 0 or 1, Option tags are 0 or 1, strings are valid UTF-8.
 * Lengths and counts are checked against the remaining input and a caller-given cap before
 * allocation.
 *
 * <p>Not thread-safe; one reader per decode. The array is not copied, so callers must not change it
 * while reading.
 */
public final class ScaleReader {
  /** Decodes one value; used for Option and Vec elements. */
  @FunctionalInterface
  public interface Decoder<T> {
    T decode(ScaleReader reader) throws ScaleException;
  }

  private final byte[] data;
  private final int end;
  private int position;

  public ScaleReader(byte[] data) {
    this(data, 0, data.length);
  }

  public ScaleReader(byte[] data, int offset, int length) {
    if (offset < 0 || length < 0 || offset > data.length - length) {
      throw new IndexOutOfBoundsException("offset/length outside the array");
    }
    this.data = data;
    this.position = offset;
    this.end = offset + length;
  }

  public int position() {
    return position;
  }

  public int remaining() {
    return end - position;
  }

  public int readU8() throws ScaleException {
    require(1, "u8");
    return data[position++] & 0xff;
  }

  public boolean readBool() throws ScaleException {
    int at = position;
    return switch (readU8()) {
      case 0 -> false;
      case 1 -> true;
      default -> throw error(at, "invalid bool (must be 0 or 1)");
    };
  }

  public int readU16() throws ScaleException {
    return (int) readLittleEndian(2, "u16");
  }

  /** An unsigned 32-bit little-endian integer. */
  public long readU32() throws ScaleException {
    return readLittleEndian(4, "u32");
  }

  /** An unsigned 64-bit little-endian integer, in a long's two's complement bits. */
  public long readU64() throws ScaleException {
    return readLittleEndian(8, "u64");
  }

  /**
   * A canonical {@code Compact<u64>}. Values of 2^63 and above are rejected (nothing here needs
   * them and a long cannot hold them).
   */
  public long readCompact() throws ScaleException {
    int at = position;
    int prefix = readU8();
    return switch (prefix & 0b11) {
      case 0b00 -> prefix >>> 2;
      case 0b01 -> {
        long value = (prefix | ((long) readU8() << 8)) >>> 2;
        if (value < 1L << 6) {
          throw error(at, "non-canonical compact integer");
        }
        yield value;
      }
      case 0b10 -> {
        long value = (prefix | (readLittleEndian(3, "compact") << 8)) >>> 2;
        if (value < 1L << 14) {
          throw error(at, "non-canonical compact integer");
        }
        yield value;
      }
      default -> {
        int bytes = (prefix >>> 2) + 4;
        if (bytes > 8) {
          throw error(at, "compact integer too large");
        }
        long value = readLittleEndian(bytes, "compact");
        // Shortest form: above the 4-byte mode's range and no zero top byte.
        if (Long.compareUnsigned(value, (1L << 30) - 1) <= 0
            || (bytes > 4 && (value >>> ((bytes - 1) * 8)) == 0)) {
          throw error(at, "non-canonical compact integer");
        }
        if (value < 0) {
          throw error(at, "compact integer too large");
        }
        yield value;
      }
    };
  }

  /**
   * A canonical {@code Compact<u32>}, as parity-scale-codec decodes Vec lengths, that must not
   * exceed {@code max}.
   */
  public int readLength(int max, String what) throws ScaleException {
    int at = position;
    long length = readCompact();
    if (length > 0xffff_ffffL) {
      throw error(at, what + ": length out of range for Compact<u32>");
    }
    if (length > max) {
      throw error(at, what + ": length " + length + " exceeds the limit of " + max);
    }
    return (int) length;
  }

  /** {@code Vec<u8>}: a compact length (at most {@code maxLength}) and that many bytes. */
  public byte[] readBytes(int maxLength, String what) throws ScaleException {
    int at = position;
    int length = readLength(maxLength, what);
    if (length > remaining()) {
      throw error(at, what + ": length " + length + " exceeds the remaining " + remaining());
    }
    return readFixed(length, what);
  }

  /** {@code String}: like {@code Vec<u8>}, and the bytes must be valid UTF-8. */
  public String readString(int maxLength, String what) throws ScaleException {
    int at = position;
    byte[] bytes = readBytes(maxLength, what);
    try {
      CharBuffer chars =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw error(at, what + ": invalid UTF-8");
    }
  }

  /** {@code [u8; n]}: exactly {@code length} bytes, no prefix. */
  public byte[] readFixed(int length, String what) throws ScaleException {
    if (length < 0) {
      throw new IllegalArgumentException("negative length");
    }
    require(length, what);
    byte[] out = Arrays.copyOfRange(data, position, position + length);
    position += length;
    return out;
  }

  /** Everything left (for a trailing field that consumes the rest of the input). */
  public byte[] readRemaining() {
    byte[] out = Arrays.copyOfRange(data, position, end);
    position = end;
    return out;
  }

  /** {@code Option<T>}: tag 0 (None) or 1 followed by the value. */
  public <T> Optional<T> readOption(Decoder<T> decoder, String what) throws ScaleException {
    int at = position;
    return switch (readU8()) {
      case 0 -> Optional.empty();
      case 1 -> Optional.of(decoder.decode(this));
      default -> throw error(at, what + ": invalid Option tag");
    };
  }

  /** {@code Option<u64>}. */
  public OptionalLong readOptionalU64(String what) throws ScaleException {
    Optional<Long> value = readOption(ScaleReader::readU64, what);
    return value.isPresent() ? OptionalLong.of(value.get()) : OptionalLong.empty();
  }

  /**
   * {@code Vec<T>}: a compact count (at most {@code maxCount}) and the elements. The count is also
   * checked against the remaining input, assuming every element takes at least one byte.
   */
  public <T> List<T> readVec(int maxCount, Decoder<T> decoder, String what) throws ScaleException {
    int at = position;
    int count = readLength(maxCount, what);
    if (count > remaining()) {
      throw error(at, what + ": count " + count + " exceeds the remaining " + remaining());
    }
    List<T> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(decoder.decode(this));
    }
    return out;
  }

  /** Fails unless the input is fully consumed. */
  public void requireEnd(String what) throws ScaleException {
    if (remaining() != 0) {
      throw error(position, what + ": " + remaining() + " trailing bytes");
    }
  }

  private long readLittleEndian(int bytes, String what) throws ScaleException {
    require(bytes, what);
    long value = 0;
    for (int i = 0; i < bytes; i++) {
      value |= (long) (data[position + i] & 0xff) << (8 * i);
    }
    position += bytes;
    return value;
  }

  private void require(int bytes, String what) throws ScaleException {
    if (bytes > remaining()) {
      throw error(position, what + ": needs " + bytes + " bytes, " + remaining() + " left");
    }
  }

  private static ScaleException error(int at, String message) {
    return new ScaleException(message + " (at byte " + at + ")");
  }
}
