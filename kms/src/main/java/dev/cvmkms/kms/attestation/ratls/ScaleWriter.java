package dev.cvmkms.kms.attestation.ratls;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BiConsumer;

/** A SCALE encoder producing the canonical (shortest) forms that {@link ScaleReader} accepts. */
public final class ScaleWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  public ScaleWriter u8(int value) {
    if (value < 0 || value > 0xff) {
      throw new IllegalArgumentException("u8 out of range");
    }
    out.write(value);
    return this;
  }

  public ScaleWriter bool(boolean value) {
    return u8(value ? 1 : 0);
  }

  public ScaleWriter u16(int value) {
    return littleEndian(value, 2);
  }

  public ScaleWriter u32(long value) {
    if (value < 0 || value > 0xffff_ffffL) {
      throw new IllegalArgumentException("u32 out of range");
    }
    return littleEndian(value, 4);
  }

  /** A u64 given as a long's bits (so values ≥ 2^63 are negative longs). */
  public ScaleWriter u64(long value) {
    return littleEndian(value, 8);
  }

  /** A {@code Compact<u64>} of a non-negative value, in its shortest form. */
  public ScaleWriter compact(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("compact value must not be negative");
    }
    if (value < 1L << 6) {
      return u8((int) (value << 2));
    }
    if (value < 1L << 14) {
      return littleEndian((value << 2) | 0b01, 2);
    }
    if (value < 1L << 30) {
      return littleEndian((value << 2) | 0b10, 4);
    }
    int bytes = Math.max(4, (64 - Long.numberOfLeadingZeros(value) + 7) / 8);
    u8(((bytes - 4) << 2) | 0b11);
    return littleEndian(value, bytes);
  }

  /** {@code Vec<u8>}. */
  public ScaleWriter bytes(byte[] value) {
    compact(value.length);
    return raw(value);
  }

  /** {@code String} (UTF-8). */
  public ScaleWriter string(String value) {
    return bytes(value.getBytes(StandardCharsets.UTF_8));
  }

  /** Bytes with no length prefix ({@code [u8; n]} or a trailing field). */
  public ScaleWriter raw(byte[] value) {
    out.writeBytes(value);
    return this;
  }

  public <T> ScaleWriter option(Optional<T> value, BiConsumer<ScaleWriter, T> encoder) {
    if (value.isEmpty()) {
      return u8(0);
    }
    u8(1);
    encoder.accept(this, value.get());
    return this;
  }

  public ScaleWriter optionalU64(OptionalLong value) {
    return value.isPresent() ? u8(1).u64(value.getAsLong()) : u8(0);
  }

  public <T> ScaleWriter vec(List<T> values, BiConsumer<ScaleWriter, T> encoder) {
    compact(values.size());
    values.forEach(v -> encoder.accept(this, v));
    return this;
  }

  public byte[] toByteArray() {
    return out.toByteArray();
  }

  private ScaleWriter littleEndian(long value, int bytes) {
    for (int i = 0; i < bytes; i++) {
      out.write((int) (value >>> (8 * i)) & 0xff);
    }
    return this;
  }
}
