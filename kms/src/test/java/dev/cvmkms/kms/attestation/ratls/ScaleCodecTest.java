package dev.cvmkms.kms.attestation.ratls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ScaleCodecTest {

  // parity-scale-codec's own table (compact.rs, compact_integers_encoded_as_expected)
  @ParameterizedTest
  @CsvSource({
    "0, 00",
    "63, fc",
    "64, 0101",
    "16383, fdff",
    "16384, 02000100",
    "1073741823, feffffff",
    "1073741824, 0300000040",
    "4294967295, 03ffffffff",
    "4294967296, 070000000001",
    "1099511627776, 0b000000000001",
    "281474976710656, 0f00000000000001",
    "72057594037927935, 0fffffffffffffff",
    "72057594037927936, 130000000000000001",
  })
  void compact_matchesParityScaleCodec(long value, String hex) throws ScaleException {
    byte[] encoded = HexFormat.of().parseHex(hex);

    assertThat(new ScaleWriter().compact(value).toByteArray()).isEqualTo(encoded);
    ScaleReader reader = new ScaleReader(encoded);
    assertThat(reader.readCompact()).isEqualTo(value);
    assertThat(reader.remaining()).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0500", // mode 1 holding 1
        "fd00", // mode 1 holding 63
        "02000000", // mode 2 holding 0
        "feff0000", // mode 2 holding 16383
        "03ffffff3f", // big mode holding 2^30 - 1
        "070000000000", // 5 bytes with a zero top byte
        "130000000000000000", // 9 bytes with a zero top byte
      })
  void compact_rejectsNonCanonicalForms(String hex) {
    assertThatThrownBy(() -> new ScaleReader(HexFormat.of().parseHex(hex)).readCompact())
        .isInstanceOf(ScaleException.class)
        .hasMessageContaining("non-canonical");
  }

  @Test
  void compact_rejectsMoreThanEightBytesAndValuesAboveLongMax() {
    assertThatThrownBy(
            () ->
                new ScaleReader(HexFormat.of().parseHex("17" + "00".repeat(8) + "01"))
                    .readCompact())
        .isInstanceOf(ScaleException.class)
        .hasMessageContaining("too large");
    assertThatThrownBy(
            () -> new ScaleReader(HexFormat.of().parseHex("13ffffffffffffffff")).readCompact())
        .isInstanceOf(ScaleException.class)
        .hasMessageContaining("too large");
  }

  @Test
  void compact_roundTripsRandomValues() throws ScaleException {
    Random random = new Random(42);
    for (int i = 0; i < 2000; i++) {
      long value = random.nextLong() >>> (1 + random.nextInt(63));
      byte[] encoded = new ScaleWriter().compact(value).toByteArray();
      assertThat(new ScaleReader(encoded).readCompact()).isEqualTo(value);
    }
  }

  @Test
  void length_aboveU32_isRejected_evenIfCanonical() {
    byte[] fiveBytes = new ScaleWriter().compact(1L << 32).toByteArray();

    assertThatThrownBy(() -> new ScaleReader(fiveBytes).readLength(Integer.MAX_VALUE, "vec"))
        .isInstanceOf(ScaleException.class)
        .hasMessageContaining("Compact<u32>");
  }

  @Test
  void bytes_lengthBeyondRemainingOrCap_isRejectedBeforeAllocating() {
    // claims 2^32 - 1 bytes with 2 bytes of input
    byte[] hostile = HexFormat.of().parseHex("03ffffffff0102");

    assertThatThrownBy(() -> new ScaleReader(hostile).readBytes(Integer.MAX_VALUE, "blob"))
        .isInstanceOf(ScaleException.class)
        .hasMessage("blob: length 4294967295 exceeds the limit of 2147483647 (at byte 0)");
    byte[] tooLong = new ScaleWriter().compact(100).raw(new byte[3]).toByteArray();
    assertThatThrownBy(() -> new ScaleReader(tooLong).readBytes(1000, "blob"))
        .isInstanceOf(ScaleException.class)
        .hasMessage("blob: length 100 exceeds the remaining 3 (at byte 0)");
    byte[] overCap = new ScaleWriter().bytes(new byte[10]).toByteArray();
    assertThatThrownBy(() -> new ScaleReader(overCap).readBytes(9, "blob"))
        .isInstanceOf(ScaleException.class)
        .hasMessage("blob: length 10 exceeds the limit of 9 (at byte 0)");
  }

  @Test
  void vec_countBeyondRemaining_isRejected() {
    byte[] hostile = new ScaleWriter().compact(1000).raw(new byte[5]).toByteArray();

    assertThatThrownBy(
            () -> new ScaleReader(hostile).readVec(1 << 20, ScaleReader::readU8, "items"))
        .isInstanceOf(ScaleException.class)
        .hasMessageContaining("count 1000 exceeds the remaining");
  }

  @Test
  void boolAndOptionTags_mustBeZeroOrOne() {
    assertThatThrownBy(() -> new ScaleReader(new byte[] {2}).readBool())
        .isInstanceOf(ScaleException.class)
        .hasMessageContaining("invalid bool");
    assertThatThrownBy(() -> new ScaleReader(new byte[] {2, 0}).readOptionalU64("x"))
        .isInstanceOf(ScaleException.class)
        .hasMessageContaining("invalid Option tag");
  }

  @Test
  void strings_mustBeValidUtf8() {
    byte[] overlong = new ScaleWriter().bytes(new byte[] {(byte) 0xc0, (byte) 0x80}).toByteArray();
    byte[] surrogate =
        new ScaleWriter().bytes(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}).toByteArray();

    for (byte[] bad : List.of(overlong, surrogate)) {
      assertThatThrownBy(() -> new ScaleReader(bad).readString(100, "s"))
          .isInstanceOf(ScaleException.class)
          .hasMessageContaining("invalid UTF-8");
    }
  }

  @Test
  void writerAndReader_roundTripEveryType() throws ScaleException {
    byte[] encoded =
        new ScaleWriter()
            .u8(7)
            .bool(true)
            .u16(0xbeef)
            .u32(0xdeadbeefL)
            .u64(-1L)
            .string("héllo ✓ 𝄞")
            .option(Optional.of("x"), ScaleWriter::string)
            .option(Optional.<String>empty(), ScaleWriter::string)
            .optionalU64(OptionalLong.of(1700000000L))
            .vec(List.of("a", "bc"), ScaleWriter::string)
            .raw(new byte[] {9, 9})
            .toByteArray();

    ScaleReader in = new ScaleReader(encoded);
    assertThat(in.readU8()).isEqualTo(7);
    assertThat(in.readBool()).isTrue();
    assertThat(in.readU16()).isEqualTo(0xbeef);
    assertThat(in.readU32()).isEqualTo(0xdeadbeefL);
    assertThat(in.readU64()).isEqualTo(-1L);
    assertThat(in.readString(100, "s")).isEqualTo("héllo ✓ 𝄞");
    assertThat(in.readOption(r -> r.readString(10, "o"), "o")).contains("x");
    assertThat(in.readOption(r -> r.readString(10, "o"), "o")).isEmpty();
    assertThat(in.readOptionalU64("t")).hasValue(1700000000L);
    assertThat(in.readVec(10, r -> r.readString(10, "e"), "v")).containsExactly("a", "bc");
    assertThat(in.readRemaining()).containsExactly(9, 9);
    in.requireEnd("all");
  }

  @Test
  void requireEnd_reportsTrailingBytes() {
    assertThatThrownBy(() -> new ScaleReader(new byte[2]).requireEnd("thing"))
        .isInstanceOf(ScaleException.class)
        .hasMessage("thing: 2 trailing bytes (at byte 0)");
  }

  @Test
  void truncatedFixedWidthValues_areCleanErrors() {
    assertThatThrownBy(() -> new ScaleReader(new byte[3]).readU32())
        .isInstanceOf(ScaleException.class)
        .hasMessage("u32: needs 4 bytes, 3 left (at byte 0)");
    assertThatThrownBy(() -> new ScaleReader(new byte[] {0x01}).readCompact())
        .isInstanceOf(ScaleException.class);
  }
}
