package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ReportDataTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void bootstrap_matchesComputedVectorOfSpec84() {
    byte[] reportData =
        ReportData.forBootstrap(
            HEX.parseHex(EcKeysTest.UPSTREAM_ROOT_SPKI),
            HEX.parseHex("0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c"));
    assertThat(HEX.formatHex(reportData))
        .isEqualTo(
            "7040375da0310e22aaea37615694d9b3d6700ed24a36655cc3cbc3d99917b766" + "00".repeat(32));
  }

  @Test
  void bootstrap_keepsTheUpstreamTypo() {
    assertThat(ReportData.BOOTSTRAP_PREFIX).isEqualTo("dstack-kms-genereted-keys-v1:");
  }

  @Test
  void raTls_matchesComputedVectorOfSpec95() {
    assertThat(HEX.formatHex(ReportData.forRaTlsCert(HEX.parseHex(EcKeysTest.UPSTREAM_ROOT_SPKI))))
        .isEqualTo(
            "d224180bddf1a335755b07626fdc80ce18090be1ff37e7d6e1b53e780e27da0d"
                + "8fafe99fc41e90333fcb51949ae5a1fc95b7820e142e611256ff4a8dc8997506");
  }
}
