package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertRenewalTest {
  private static final Instant ISSUED = TestKeys.NOW;
  private static final Instant CA_NOT_AFTER = ISSUED.plus(Duration.ofDays(3650));

  @TempDir Path dir;

  @Test
  void restart_keepsKeysAndReissuesRpcCertWithFreshAttestation() throws Exception {
    FileKeyStore store = new FileKeyStore(dir);
    FakeAttester attester = new FakeAttester();
    RootKeys original = TestKeys.generate("kms.example.com", Optional.of(attester));
    store.save(original);
    byte[] firstAttestation =
        CertExtensions.content(original.rpcCertificate(), CertExtensions.ATTESTATION).orElseThrow();

    RootKeys served =
        renewal(ISSUED.plus(Duration.ofDays(1)))
            .renewOnStart(new FileKeyStore(dir), Optional.empty(), Optional.of(attester));

    assertThat(served.k256CompressedPublicKey()).isEqualTo(original.k256CompressedPublicKey());
    assertThat(served.rootCaSpkiDer()).isEqualTo(original.rootCaSpkiDer());
    assertThat(served.secretRpcKeyPem()).isEqualTo(original.secretRpcKeyPem());
    byte[] rpcReportData =
        ReportData.forRaTlsCert(original.rpcCertificate().getPublicKey().getEncoded());
    assertThat(attester.requests()).containsExactly(rpcReportData, rpcReportData);
    byte[] fresh =
        CertExtensions.content(served.rpcCertificate(), CertExtensions.ATTESTATION).orElseThrow();
    assertThat(fresh)
        .isEqualTo(FakeAttester.answer(2, rpcReportData))
        .isNotEqualTo(firstAttestation);
    assertThat(served.rpcCertificate().getSerialNumber())
        .isEqualTo(original.rpcCertificate().getSerialNumber());
    assertThat(Files.readString(dir.resolve("rpc.crt"))).isEqualTo(served.rpcCertPem());
    assertThat(new FileKeyStore(dir).load().rpcCertPem()).isEqualTo(served.rpcCertPem());
  }

  @Test
  void caCertificates_keptOutsideTheRenewalWindow() throws Exception {
    FileKeyStore store = new FileKeyStore(dir);
    RootKeys original = TestKeys.unattested();
    store.save(original);
    String rootFile = Files.readString(dir.resolve("root-ca.crt"));
    String tmpFile = Files.readString(dir.resolve("tmp-ca.crt"));

    Instant justOutside = CA_NOT_AFTER.minus(Duration.ofDays(365)).minusSeconds(1);
    RootKeys served = renewal(justOutside).renewOnStart(store, Optional.empty(), Optional.empty());

    assertThat(Files.readString(dir.resolve("root-ca.crt"))).isEqualTo(rootFile);
    assertThat(Files.readString(dir.resolve("tmp-ca.crt"))).isEqualTo(tmpFile);
    assertThat(served.rootCaCertPem()).isEqualTo(rootFile);
    assertThat(served.rpcCertPem()).isNotEqualTo(original.rpcCertPem());
    CertificateIssuerTest.assertChainVerifies(
        served.rpcCertificate(), original.rootCaCertificate());
  }

  @Test
  void caCertificates_renewedInsideTheWindow_sameKeysAndNames() throws Exception {
    FileKeyStore store = new FileKeyStore(dir);
    RootKeys original = TestKeys.unattested();
    store.save(original);

    Instant atWindow = CA_NOT_AFTER.minus(Duration.ofDays(365));
    RootKeys served = renewal(atWindow).renewOnStart(store, Optional.empty(), Optional.empty());

    for (var pair :
        java.util.List.of(
            new java.security.cert.X509Certificate[] {
              original.rootCaCertificate(), served.rootCaCertificate()
            },
            new java.security.cert.X509Certificate[] {
              original.tmpCaCertificate(), served.tmpCaCertificate()
            })) {
      assertThat(pair[1]).isNotEqualTo(pair[0]);
      assertThat(pair[1].getPublicKey()).isEqualTo(pair[0].getPublicKey());
      assertThat(pair[1].getSubjectX500Principal()).isEqualTo(pair[0].getSubjectX500Principal());
      assertThat(pair[1].getSerialNumber()).isEqualTo(pair[0].getSerialNumber());
      assertThat(pair[1].getNotAfter().toInstant()).isEqualTo(atWindow.plus(Duration.ofDays(3650)));
    }
    assertThat(Files.readString(dir.resolve("root-ca.crt"))).isEqualTo(served.rootCaCertPem());
    assertThat(Files.readString(dir.resolve("tmp-ca.crt"))).isEqualTo(served.tmpCaCertPem());
    // Old and new root certificates are interchangeable for chains.
    CertificateIssuerTest.assertChainVerifies(
        served.rpcCertificate(), original.rootCaCertificate());
    CertificateIssuerTest.assertChainVerifies(
        original.rpcCertificate(), served.rootCaCertificate());
  }

  @Test
  void needsRenewal_boundaries() {
    var cert = TestKeys.unattested().rootCaCertificate();
    assertThat(CertRenewal.needsRenewal(cert, ISSUED)).isFalse();
    assertThat(CertRenewal.needsRenewal(cert, CA_NOT_AFTER.minus(Duration.ofDays(366)))).isFalse();
    assertThat(CertRenewal.needsRenewal(cert, CA_NOT_AFTER.minus(Duration.ofDays(365)))).isTrue();
    assertThat(CertRenewal.needsRenewal(cert, CA_NOT_AFTER.minus(Duration.ofDays(1)))).isTrue();
    assertThat(CertRenewal.needsRenewal(cert, CA_NOT_AFTER.plus(Duration.ofDays(30)))).isTrue();
  }

  @Test
  void domain_fromAutoBootstrapDomainWhenSet_elseRpcDomainFile() throws Exception {
    InMemoryKeyStore store = new InMemoryKeyStore();
    store.save(TestKeys.unattested());

    RootKeys fromConfig =
        renewal(ISSUED).renewOnStart(store, Optional.of("other.example.com"), Optional.empty());
    assertThat(fromConfig.rpcDomain()).isEqualTo("other.example.com");
    assertThat(fromConfig.rpcCertificate().getSubjectAlternativeNames())
        .containsExactly(java.util.List.of(2, "other.example.com"));

    RootKeys fromFile = renewal(ISSUED).renewOnStart(store, Optional.of(" "), Optional.empty());
    assertThat(fromFile.rpcDomain()).isEqualTo(TestKeys.DOMAIN);
  }

  @Test
  void brokenStore_failsTheStartWithTheFileName() throws Exception {
    FileKeyStore store = new FileKeyStore(dir);
    store.save(TestKeys.unattested());
    Files.delete(dir.resolve("root-ca.key"));

    assertThatThrownBy(
            () -> renewal(ISSUED).renewOnStart(store, Optional.empty(), Optional.empty()))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("root-ca.key");
  }

  private static CertRenewal renewal(Instant now) {
    return new CertRenewal(TestKeys.clockAt(now));
  }
}
