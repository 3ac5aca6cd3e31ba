package dev.cvmkms.kms.keys.derivation;

import static dev.cvmkms.kms.keys.derivation.Vectors.hex;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Keccak256Test {

  @Test
  void emptyInput_isTheWellKnownKeccakNotSha3() {
    assertThat(HexFormat.of().formatHex(Keccak256.digest()))
        .isEqualTo("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  }

  @Test
  void bootstrapReportData_vector() {
    // §8.4: report_data = keccak256("dstack-kms-genereted-keys-v1:" hex(spki) ";" hex(k256) ";") ‖
    // 0^32
    String preimage =
        "dstack-kms-genereted-keys-v1:"
            + Vectors.string("root_ca_spki")
            + ";"
            + Vectors.string("root_k256_pub")
            + ";";

    byte[] reportData = Arrays.copyOf(Keccak256.digest(preimage.getBytes(US_ASCII)), 64);

    assertThat(reportData).isEqualTo(hex("bootstrap_report_data"));
  }

  @Test
  void parts_areConcatenated() {
    assertThat(Keccak256.digest("ab".getBytes(US_ASCII), "c".getBytes(US_ASCII)))
        .isEqualTo(Keccak256.digest("abc".getBytes(US_ASCII)));
  }
}
