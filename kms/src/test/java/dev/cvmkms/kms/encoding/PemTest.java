package dev.cvmkms.kms.encoding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one PEM reader: strict about labels and what lies between blocks. */
class PemTest {
  private static final String A = Pem.encode("CERTIFICATE", new byte[] {1, 2, 3});
  private static final String B = Pem.encode("CERTIFICATE", new byte[] {4, 5});

  @Test
  void encodeThenDecode_roundTrips() {
    assertThat(Pem.decode(A, "CERTIFICATE")).containsExactly(1, 2, 3);
    assertThat(A)
        .startsWith("-----BEGIN CERTIFICATE-----\n")
        .endsWith("-----END CERTIFICATE-----\n");
  }

  @Test
  void decodeAll_readsEveryBlockInOrder_allowingWhitespaceAndATrailingNul() {
    List<byte[]> blocks = Pem.decodeAll(A + "\n" + B + "\0", "CERTIFICATE", 8);
    assertThat(blocks).hasSize(2);
    assertThat(blocks.get(0)).containsExactly(1, 2, 3);
    assertThat(blocks.get(1)).containsExactly(4, 5);
  }

  @Test
  void decodeAll_refusesTextBetweenBlocks_anotherLabel_tooMany_andNone() {
    assertThatThrownBy(() -> Pem.decodeAll(A + "junk\n" + B, "CERTIFICATE", 8))
        .hasMessage("text outside the PEM blocks");
    assertThatThrownBy(
            () -> Pem.decodeAll(A + Pem.encode("PRIVATE KEY", new byte[] {9}), "CERTIFICATE", 8))
        .hasMessageContaining("found 'PRIVATE KEY'");
    assertThatThrownBy(() -> Pem.decodeAll(A + B + A, "CERTIFICATE", 2))
        .hasMessage("more than 2 PEM blocks");
    assertThatThrownBy(() -> Pem.decodeAll("  \n", "CERTIFICATE", 8))
        .hasMessage("no PEM block found");
    assertThatThrownBy(() -> Pem.decodeAll(A.substring(0, A.length() - 10), "CERTIFICATE", 8))
        .hasMessageContaining("truncated");
  }

  @Test
  void decode_refusesCharactersOutsideTheBase64Alphabet() {
    String body = A.split("\n", -1)[1];
    assertThatThrownBy(
            () ->
                Pem.decode(
                    "-----BEGIN CERTIFICATE-----\n" + body + "!!\n-----END CERTIFICATE-----\n",
                    "CERTIFICATE"))
        .hasMessage("PEM body is not valid base64");
    assertThat(
            Pem.decode(
                "-----BEGIN CERTIFICATE-----\r\n" + body + "\r\n-----END CERTIFICATE-----\r\n",
                "CERTIFICATE"))
        .containsExactly(1, 2, 3);
  }

  @Test
  void decode_neverEchoesTheContent() {
    String secret = Pem.encode("PRIVATE KEY", "do-not-echo".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> Pem.decode(secret, "CERTIFICATE"))
        .message()
        .doesNotContain(secret.split("\n", -1)[1]);
  }
}
