package dev.cvmkms.kms.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeySuggestionsTest {
  private static final List<String> KNOWN =
      List.of(
          "rpc",
          "rpc.port",
          "rpc.workers",
          "core",
          "core.image",
          "core.image.verify",
          "core.onboard.port",
          "core.onboard.quote_enabled",
          "rpc.body_limits.SignCert");

  @Test
  void typoInTheLastSegmentSuggestsTheSibling() {
    assertThat(KeySuggestions.closest("rpc.prot", KNOWN, Set.of())).contains("rpc.port");
    assertThat(KeySuggestions.closest("core.image.verfy", KNOWN, Set.of()))
        .contains("core.image.verify");
    // Case is ignored: method names are CamelCase.
    assertThat(KeySuggestions.closest("rpc.body_limits.signcert", KNOWN, Set.of()))
        .contains("rpc.body_limits.SignCert");
  }

  @Test
  void aKeyInTheWrongTableSuggestsWhereItLives() {
    assertThat(KeySuggestions.closest("core.verify", KNOWN, Set.of()))
        .contains("core.image.verify");
    // Several homes: the shortest path.
    assertThat(KeySuggestions.closest("port", KNOWN, Set.of())).contains("rpc.port");
  }

  @Test
  void farKeysGetNoSuggestion_andAKeyIsNeverItsOwnSuggestion() {
    assertThat(KeySuggestions.closest("core.bananas", KNOWN, Set.of())).isEmpty();
    assertThat(KeySuggestions.closest("rpc.workers", List.of("rpc.workers"), Set.of())).isEmpty();
  }

  @Test
  void onEqualDistanceKeysWeReadWinOverUpstreamOnlyOnes() {
    List<String> known = List.of("rpc.porx", "rpc.pory");
    assertThat(KeySuggestions.closest("rpc.porz", known, Set.of("rpc.pory"))).contains("rpc.pory");
    assertThat(KeySuggestions.closest("rpc.porz", known, Set.of())).contains("rpc.porx");
  }
}
