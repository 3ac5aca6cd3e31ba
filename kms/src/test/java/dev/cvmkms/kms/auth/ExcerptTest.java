package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ExcerptTest {
  @Test
  void cutInsideAMultiByteCharacter_dropsThePartialCharacter() {
    // "€" is 3 bytes; a 10-byte cap falls inside the 4th euro sign (bytes 9..11).
    byte[] body = "a€€€€€".getBytes(StandardCharsets.UTF_8);
    assertThat(Excerpt.of(body, 11)).isEqualTo("a€€€...");
    assertThat(Excerpt.of(body, 12)).isEqualTo("a€€€...");
    assertThat(Excerpt.of(body, 13)).isEqualTo("a€€€€...");
  }

  @Test
  void controlCharactersCannotForgeLogLines() {
    byte[] body = "bad\nINFO fake line\r\u0000".getBytes(StandardCharsets.UTF_8);
    assertThat(Excerpt.of(body, 100)).isEqualTo("bad INFO fake line");
  }

  @Test
  void shortBodyIsKeptWhole_emptyIsEmpty() {
    assertThat(Excerpt.of("busy".getBytes(StandardCharsets.UTF_8), 100)).isEqualTo("busy");
    assertThat(Excerpt.of(new byte[0], 100)).isEmpty();
  }

  @Test
  void urlsAreReducedToSchemeAndHost() {
    byte[] body =
        ("request failed. URL: https://user:pw@eth-mainnet.example.com/v2/K3Y?apikey=Q "
                + "and wss://rpc.example/ws")
            .getBytes(StandardCharsets.UTF_8);
    assertThat(Excerpt.of(body, 200))
        .isEqualTo(
            "request failed. URL: https://eth-mainnet.example.com/... and wss://rpc.example/...")
        .doesNotContain("K3Y", "pw", "apikey");
  }
}
