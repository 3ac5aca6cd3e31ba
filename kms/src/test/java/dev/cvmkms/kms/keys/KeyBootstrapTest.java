package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.KmsException;
import java.io.IOException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KeyBootstrapTest {
  private final KeyBootstrap bootstrap = new KeyBootstrap(TestKeys.clockAt(TestKeys.NOW));

  @Test
  void generate_makesFourKeysAndThreeCertificatesThatChain() throws Exception {
    RootKeys keys = bootstrap.generate("kms.example.com", Optional.empty());

    assertThat(keys.rpcDomain()).isEqualTo("kms.example.com");
    assertThat(keys.k256CompressedPublicKey()).hasSize(33);
    assertThat(keys.rootCaSpkiDer()).hasSize(91);
    assertThat(keys.secretK256Scalar()).hasSize(32);
    assertThat(keys.rootCaCertificate().getBasicConstraints()).isEqualTo(1);
    assertThat(keys.tmpCaCertificate().getBasicConstraints()).isZero();
    assertThat(keys.rpcCertificate().getSubjectAlternativeNames())
        .containsExactly(java.util.List.of(2, "kms.example.com"));
    assertThat(CertExtensions.content(keys.rpcCertificate(), CertExtensions.ATTESTATION)).isEmpty();
    CertificateIssuerTest.assertChainVerifies(keys.rpcCertificate(), keys.rootCaCertificate());
    assertThat(keys.secretRootCaKeyPair().getPublic().getEncoded())
        .isNotEqualTo(keys.secretTmpCaKeyPair().getPublic().getEncoded())
        .isNotEqualTo(keys.secretRpcKeyPair().getPublic().getEncoded());
  }

  @Test
  void generate_withAttester_bindsRpcKeyAndEmbedsTheAttestation() throws Exception {
    FakeAttester attester = new FakeAttester();
    RootKeys keys = bootstrap.generate("kms.example.com", Optional.of(attester));

    byte[] expectedReportData =
        ReportData.forRaTlsCert(keys.rpcCertificate().getPublicKey().getEncoded());
    assertThat(attester.requests()).containsExactly(expectedReportData);
    assertThat(CertExtensions.content(keys.rpcCertificate(), CertExtensions.ATTESTATION))
        .hasValue(FakeAttester.answer(1, expectedReportData));
  }

  @Test
  void generate_rejectsAnInvalidDomain() {
    assertThatThrownBy(() -> bootstrap.generate("kms_example.com", Optional.empty()))
        .isInstanceOf(KmsException.class);
  }

  @Test
  void generate_failsWhenTheAttesterAnswersNothing() {
    assertThatThrownBy(() -> bootstrap.generate("kms.example.com", Optional.of(rd -> new byte[0])))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no attestation");
  }

  @Test
  void bootstrap_attestsKeysAndWritesBootstrapInfoFirst() throws Exception {
    FakeAttester attester = new FakeAttester();
    InMemoryKeyStore store = new InMemoryKeyStore();

    BootstrapInfo info =
        bootstrap.bootstrap("kms.example.com", Optional.of(attester), attester, store);

    RootKeys stored = store.load();
    assertThat(info.caPubkey()).isEqualTo(stored.rootCaSpkiDer()).hasSize(91);
    assertThat(info.k256Pubkey()).isEqualTo(stored.k256CompressedPublicKey()).hasSize(33);
    byte[] bootstrapReportData = ReportData.forBootstrap(info.caPubkey(), info.k256Pubkey());
    assertThat(attester.requests()).hasSize(2);
    assertThat(attester.requests().get(1)).isEqualTo(bootstrapReportData);
    assertThat(info.attestation()).isEqualTo(FakeAttester.answer(2, bootstrapReportData));
    assertThat(store.bootstrapInfo()).hasValue(info);
    assertThat(store.writeLog()).first().isEqualTo("bootstrap-info.json");
  }

  @Test
  void fromReceivedKeys_keepsReceivedKeysAndMakesANewRpcKey() throws Exception {
    RootKeys source = TestKeys.unattested();
    RootKeys replica =
        bootstrap.fromReceivedKeys(
            source.secretTmpCaKeyPem(),
            source.secretRootCaKeyPem(),
            source.secretK256Scalar(),
            "kms2.example.com",
            Optional.empty());

    assertThat(replica.rootCaSpkiDer()).isEqualTo(source.rootCaSpkiDer());
    assertThat(replica.k256CompressedPublicKey()).isEqualTo(source.k256CompressedPublicKey());
    assertThat(replica.secretTmpCaKeyPair().getPublic())
        .isEqualTo(source.secretTmpCaKeyPair().getPublic());
    assertThat(replica.secretRpcKeyPair().getPublic())
        .isNotEqualTo(source.secretRpcKeyPair().getPublic());
    assertThat(replica.rpcDomain()).isEqualTo("kms2.example.com");
    // Same key and DN: the source's root certificate verifies the replica's RPC certificate.
    CertificateIssuerTest.assertChainVerifies(replica.rpcCertificate(), source.rootCaCertificate());
    assertThat(replica.rootCaCertificate().getSerialNumber())
        .isEqualTo(source.rootCaCertificate().getSerialNumber());
  }

  @Test
  void fromReceivedKeys_fromASource_refusesARootKeyOtherThanItsCertificates() throws Exception {
    RootKeys source = TestKeys.unattested();
    RootKeys other = bootstrap.generate("other.example.com", Optional.empty());
    RootKeys replica =
        bootstrap.fromReceivedKeys(
            source.secretTmpCaKeyPem(),
            source.secretRootCaKeyPem(),
            source.secretK256Scalar(),
            "kms2.example.com",
            Optional.empty(),
            source.rootCaPublicKey());
    assertThat(replica.rootCaSpkiDer()).isEqualTo(source.rootCaSpkiDer());
    assertThatThrownBy(
            () ->
                bootstrap.fromReceivedKeys(
                    source.secretTmpCaKeyPem(),
                    other.secretRootCaKeyPem(),
                    source.secretK256Scalar(),
                    "kms2.example.com",
                    Optional.empty(),
                    source.rootCaPublicKey()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("received ca_key does not match the source's root CA certificate");
  }

  @Test
  void fromReceivedKeys_namesTheBadField() {
    RootKeys source = TestKeys.unattested();
    assertThatThrownBy(
            () ->
                bootstrap.fromReceivedKeys(
                    "garbage",
                    source.secretRootCaKeyPem(),
                    source.secretK256Scalar(),
                    "kms.example.com",
                    Optional.empty()))
        .hasMessageContaining("received temp_ca_key");
    assertThatThrownBy(
            () ->
                bootstrap.fromReceivedKeys(
                    source.secretTmpCaKeyPem(),
                    source.secretRootCaKeyPem(),
                    new byte[16],
                    "kms.example.com",
                    Optional.empty()))
        .hasMessageContaining("received k256_key");
  }
}
