package dev.cvmkms.kms.keys.csr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** A CSR's attestation, decoded and verified against the CSR's own key, without Vert.x. */
class AttestedCsrTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  private final MockTdx tdx = MockTdx.create(NOW);

  private static KeyPair p256() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static CertSigningRequest csr(KeyPair key, CsrAttestation attestation) {
    CertConfig config =
        new CertConfig(
            Optional.empty(),
            "app.example.com",
            List.of("app.example.com"),
            false,
            false,
            false,
            false,
            OptionalLong.empty(),
            OptionalLong.empty());
    return new CertSigningRequest(
        ScaleCsr.CONFIRM, key.getPublic().getEncoded(), config, attestation);
  }

  private byte[] boundTo(KeyPair key) {
    return tdx.versionedAttestation(RaTlsExtensions.reportData(key.getPublic().getEncoded()));
  }

  @Test
  void anAttestationBindingTheCsrsKey_verifies() throws Exception {
    KeyPair key = p256();
    CertSigningRequest csr = csr(key, new CsrAttestation.Versioned(boundTo(key)));
    AttestedCsr.Parsed parsed = AttestedCsr.parse(csr);
    assertThat(parsed.attestation().reportData())
        .isEqualTo(RaTlsExtensions.reportData(key.getPublic().getEncoded()));

    AttestedCsr.Verified v =
        AttestedCsr.verify(tdx.verifier(), parsed, NOW, Runnable::run).toCompletableFuture().join();
    assertThat(v.csr()).isSameAs(csr);
    assertThat(v.attestation().quote().status().intelName()).isEqualTo("UpToDate");
  }

  @Test
  void anAttestationBindingAnotherKey_isRefused() throws Exception {
    KeyPair key = p256();
    CertSigningRequest csr = csr(key, new CsrAttestation.Versioned(boundTo(p256())));
    var stage = AttestedCsr.verify(tdx.verifier(), AttestedCsr.parse(csr), NOW, Runnable::run);
    assertThatThrownBy(() -> stage.toCompletableFuture().join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.REPORT_DATA_MISMATCH));
  }

  @Test
  void attestationBytesThatDoNotDecode_failTheParse() throws Exception {
    CertSigningRequest csr = csr(p256(), new CsrAttestation.Versioned(new byte[] {1, 2, 3}));
    assertThatThrownBy(() -> AttestedCsr.parse(csr)).isInstanceOf(AttestationException.class);
  }
}
