package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Calldata and return data against the vector measured with ethers in spec/auth-eth.md §2. */
class KmsContractTest {
  static String word(String hex) {
    return "0".repeat(64 - hex.length()) + hex;
  }

  static String rightPadded(String hex) {
    return hex + "0".repeat(64 - hex.length());
  }

  @Test
  void encodesIsAppAllowedLikeEthers() {
    BootInfo info =
        new BootInfo(
            "0x75537828f2ce51be7289709686a69cbfdbb714f1",
            "0x" + "44".repeat(32),
            "0x" + "55".repeat(20),
            "0x" + "66".repeat(32),
            "0x" + "11".repeat(32),
            "0x" + "00".repeat(32),
            "0x" + "22".repeat(32),
            "UpToDate",
            List.of());
    String expected =
        "0x1e079198"
            + word("20")
            + word("75537828f2ce51be7289709686a69cbfdbb714f1")
            + "44".repeat(32)
            + word("55".repeat(20))
            + "66".repeat(32)
            + "11".repeat(32)
            + "00".repeat(32)
            + "22".repeat(32)
            + word("120")
            + word("160")
            + word("8")
            + rightPadded("5570546f44617465")
            + word("0");
    String data = KmsContract.encodeBootCheck(info, false);
    assertThat(data).isEqualTo(expected);
    assertThat((data.length() - 2) / 2).isEqualTo(420);
    assertThat(KmsContract.encodeBootCheck(info, true))
        .startsWith("0xe067ec9d")
        .endsWith(expected.substring(10));
  }

  @Test
  void encodesAdvisoryIds() {
    BootInfo info =
        new BootInfo(
            "0x" + "00".repeat(20),
            "0x" + "00".repeat(32),
            "0x" + "00".repeat(20),
            "0x" + "00".repeat(32),
            "0x" + "00".repeat(32),
            "0x" + "00".repeat(32),
            "0x" + "00".repeat(32),
            "",
            List.of("INTEL-SA-00837"));
    String data = KmsContract.encodeBootCheck(info, false);
    // string[] tail: length 1, offset 0x20, then length 14 and the text.
    assertThat(data)
        .endsWith(word("1") + word("20") + word("e") + rightPadded("494e54454c2d53412d3030383337"));
  }

  @Test
  void decodesTheDecision() {
    String ret =
        "0x"
            + word("0")
            + word("40")
            + word("18")
            + rightPadded("436f6d706f73652068617368206e6f7420616c6c6f776564");
    assertThat(KmsContract.decodeDecision(ret))
        .isEqualTo(new Decision(false, "Compose hash not allowed"));
    String allowed = "0x" + word("1") + word("40") + word("0");
    assertThat(KmsContract.decodeDecision(allowed)).isEqualTo(new Decision(true, ""));
  }

  @Test
  void emptyOrGarbageReturnDataFailsClosed() {
    assertThatThrownBy(() -> KmsContract.decodeDecision("0x"))
        .isInstanceOf(RpcException.class)
        .extracting(e -> ((RpcException) e).kind())
        .isEqualTo(RpcException.Kind.REVERTED);
    assertThatThrownBy(() -> KmsContract.decodeDecision("0x" + word("1") + word("ffff")))
        .isInstanceOf(RpcException.class);
  }

  @Test
  void quantitiesAndBlockTags() {
    assertThat(KmsContract.quantity("0x7a69")).isEqualTo(31337);
    assertThatThrownBy(() -> KmsContract.quantity("31337")).isInstanceOf(RpcException.class);
    assertThatThrownBy(() -> KmsContract.quantity(12)).isInstanceOf(RpcException.class);
    assertThat(KmsContract.blockTag(100, 12)).isEqualTo("0x58");
    assertThat(KmsContract.blockTag(3, 12)).isEqualTo("0x0");
  }
}
