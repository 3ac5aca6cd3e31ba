package dev.cvmkms.kms.attestation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.CollateralCache;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The FMSPC flood (issue #13): quotes whose PCK chain does not reach our trust anchor, each with
 * another FMSPC, cost no upstream call and no cache entry; honest callers are still served.
 */
class CollateralGateTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  static final int FLOOD = 5_000;
  static final MockTdxPki ATTACKER = new MockTdxPki("attacker".getBytes(StandardCharsets.UTF_8));

  private final MockTdx honest = MockTdx.create(NOW);
  private final AtomicInteger fetches = new AtomicInteger();
  private final CollateralSource counting =
      new CollateralSource() {
        @Override
        public CompletionStage<Collateral> fetch(Key key) {
          fetches.incrementAndGet();
          return CompletableFuture.completedFuture(honest.collateral());
        }
      };
  private final CollateralCache cache =
      new CollateralCache(
          counting, new MutableClock(NOW), 1024, Duration.ofHours(1), Duration.ofSeconds(10));
  private final AttestationVerifier verifier =
      new AttestationVerifier(honest.dcapVerifier(), cache);

  /** The honest attestation with its quote re-signed by a foreign PKI carrying {@code fmspc}. */
  private VersionedAttestation forged(VersionedAttestation real, int n) {
    byte[] fmspc = ByteBuffer.allocate(8).putLong(0x1000_0000_0000L + n).array();
    MockTdxPki attacker = ATTACKER.withFmspc(java.util.Arrays.copyOfRange(fmspc, 2, 8));
    byte[] quote = attacker.quote(honest.quoteSpec(real.reportData(), real.runtimeEvents()));
    return new VersionedAttestation(
        real.wireVersion(),
        quote,
        real.eventLog(),
        real.runtimeEvents(),
        real.reportData(),
        real.config());
  }

  @Test
  void unverifiableChains_withDistinctFmspcs_costNoFetchAndNoEntry() {
    VersionedAttestation real = honest.attestation(new byte[64]);
    for (int i = 0; i < FLOOD; i++) {
      VersionedAttestation bad = forged(real, i);
      assertThatThrownBy(() -> verifier.verify(bad, null, NOW))
          .isInstanceOfSatisfying(
              AttestationException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED_CHAIN));
    }
    assertThat(fetches).hasValue(0);
    assertThat(cache.size()).isZero();

    // The honest platform: one fetch, then served from the cache.
    for (int i = 0; i < 3; i++) {
      assertThat(verifier.verify(real, null, NOW).quote().status().intelName())
          .isEqualTo("UpToDate");
    }
    assertThat(fetches).hasValue(1);
    assertThat(cache.size()).isEqualTo(1);

    // With the honest FMSPC cached, a forged quote for it fails on the full verification.
    VersionedAttestation sameFmspc =
        new VersionedAttestation(
            real.wireVersion(),
            new MockTdxPki("attacker-same".getBytes(StandardCharsets.UTF_8))
                .quote(honest.quoteSpec(real.reportData(), real.runtimeEvents())),
            real.eventLog(),
            real.runtimeEvents(),
            real.reportData(),
            real.config());
    assertThatThrownBy(() -> verifier.verify(sameFmspc, null, NOW))
        .isInstanceOf(AttestationException.class);
    assertThat(fetches).hasValue(1);
  }

  @Test
  void aChainOutsideItsValidity_costsNoFetch_evenThoughItVerified() {
    VersionedAttestation real = honest.attestation(new byte[64]);
    Instant afterExpiry = Instant.parse("2100-01-02T00:00:00Z"); // the mock PKI's end + 1 day
    assertThatThrownBy(() -> verifier.verify(real, null, afterExpiry))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.EXPIRED);
              assertThat(e.getMessage()).contains("PCK certificate: certificate valid");
            });
    assertThat(fetches).hasValue(0);
    assertThat(cache.size()).isZero();
    // The same chain is still good today, and now fetched once.
    assertThat(verifier.verify(real, null, NOW).quote().status().intelName()).isEqualTo("UpToDate");
    assertThat(fetches).hasValue(1);
  }
}
