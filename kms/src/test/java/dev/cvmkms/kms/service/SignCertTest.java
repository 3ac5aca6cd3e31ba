package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.ratls.MsgPack;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.client.ImageVerifier;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.AppInfoExtension;
import dev.cvmkms.kms.keys.CertExtensions;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.csr.CertConfig;
import dev.cvmkms.kms.keys.csr.CertSigningRequest;
import dev.cvmkms.kms.keys.csr.CsrAttestation;
import dev.cvmkms.kms.keys.csr.ScaleCsr;
import dev.cvmkms.kms.keys.derivation.KeyDerivation;
import dev.cvmkms.kms.proto.SignCertResponse;
import dev.cvmkms.kms.rpc.PrpcJson;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SignCert over HTTPS with SCALE CSRs built by keys.csr's encoder and MockTdx attestations. */
class SignCertTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();
  private static final String KEY_USAGE = "2.5.29.15";
  private static final String AUTHORITY_KEY_ID = "2.5.29.35";
  private static final String SUBJECT_KEY_ID = "2.5.29.14";

  @TempDir Path dir;
  private AppKeyServer server;

  @BeforeEach
  void start() throws Exception {
    server =
        new AppKeyServer(
            dir.resolve("audit.jsonl"), ImageVerifier.disabled(), UnaryOperator.identity());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  static CertConfig tlsConfig() {
    return new CertConfig(
        Optional.of("Example Org"),
        "app.example.com",
        List.of("app.example.com", "10.0.0.1"),
        true,
        true,
        true,
        false,
        OptionalLong.of(1_700_000_000L),
        OptionalLong.of(1_800_000_000L));
  }

  private String request(int apiVersion, CertSigningRequest csr, KeyPair signer) throws Exception {
    byte[] scale = ScaleCsr.encode(csr);
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(signer.getPrivate());
    s.update(scale);
    return "{\"api_version\":"
        + apiVersion
        + ",\"csr\":\""
        + HEX.formatHex(scale)
        + "\",\"signature\":\""
        + HEX.formatHex(s.sign())
        + "\"}";
  }

  private CertSigningRequest v2(KeyPair key, VersionedAttestation att) {
    return new CertSigningRequest(
        ScaleCsr.CONFIRM,
        key.getPublic().getEncoded(),
        tlsConfig(),
        new CsrAttestation.Versioned(att.encode()));
  }

  private VersionedAttestation bound(KeyPair key) {
    return server.guest.attestation(RaTlsExtensions.reportData(key.getPublic().getEncoded()));
  }

  private static List<X509Certificate> chain(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    SignCertResponse resp =
        PrpcJson.decode(
            r.body().getBytes(StandardCharsets.UTF_8), SignCertResponse.getDefaultInstance());
    assertThat(resp.getCertificateChainList()).hasSize(3);
    List<X509Certificate> out = new ArrayList<>();
    for (String pem : resp.getCertificateChainList()) {
      out.add(Pem.parseCertificate(pem));
    }
    return out;
  }

  private static String error(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    return JSON.readTree(r.body()).get("error").asText();
  }

  @Test
  void v2Csr_chainVerifiesToTheRoot_withDstackProfiles() throws Exception {
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    HttpResponse<String> r =
        server.anonymousClient().post("SignCert", request(2, v2(key, bound(key)), key));
    List<X509Certificate> chain = chain(r);
    X509Certificate leaf = chain.get(0);
    X509Certificate appCa = chain.get(1);
    SignCertResponse resp =
        PrpcJson.decode(
            r.body().getBytes(StandardCharsets.UTF_8), SignCertResponse.getDefaultInstance());
    assertThat(resp.getCertificateChain(2)).isEqualTo(server.keys.rootCaCertPem());

    // PKIX: leaf <- app CA <- root (trust anchor), as a TLS peer would check it.
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    PKIXParameters params =
        new PKIXParameters(Set.of(new TrustAnchor(server.keys.rootCaCertificate(), null)));
    params.setRevocationEnabled(false);
    params.setDate(java.util.Date.from(Instant.ofEpochSecond(1_750_000_000L)));
    CertPathValidator.getInstance("PKIX")
        .validate(cf.generateCertPath(List.of(leaf, appCa)), params);

    byte[] appId = server.guest.appId();
    // App CA (spec §8.3 item 5)
    // RFC 2253 lists the last RDN first: the DER order is O, then CN, as rcgen writes it.
    assertThat(appCa.getSubjectX500Principal().getName()).isEqualTo("CN=Dstack App CA,O=Dstack");
    assertThat(appCa.getIssuerX500Principal())
        .isEqualTo(server.keys.rootCaCertificate().getSubjectX500Principal());
    assertThat(appCa.getBasicConstraints()).isZero();
    assertThat(appCa.getCriticalExtensionOIDs()).contains(KEY_USAGE, "2.5.29.19");
    assertThat(appCa.getKeyUsage()).startsWith(true, false, false, false, false, true, true);
    assertThat(appCa.getExtensionValue(SUBJECT_KEY_ID)).isNotNull();
    assertThat(appCa.getExtensionValue(AUTHORITY_KEY_ID)).isNull();
    assertThat(appCa.getExtendedKeyUsage()).isNull();
    assertThat(CertExtensions.content(appCa, CertExtensions.APP_ID)).contains(appId);
    assertThat(CertExtensions.content(appCa, CertExtensions.SPECIAL_USAGE))
        .hasValueSatisfying(
            v -> assertThat(new String(v, StandardCharsets.US_ASCII)).isEqualTo("app:ca"));
    assertThat(appCa.getPublicKey().getEncoded())
        .isEqualTo(
            KeyDerivation.appCaKeyPair(
                    (ECPrivateKey) server.keys.secretRootCaKeyPair().getPrivate(), appId)
                .getPublic()
                .getEncoded());
    appCa.verify(server.keys.rootCaPublicKey());

    // Leaf (spec §10.9)
    assertThat(leaf.getSubjectX500Principal().getName())
        .isEqualTo("CN=app.example.com,O=Example Org");
    assertThat(leaf.getIssuerX500Principal()).isEqualTo(appCa.getSubjectX500Principal());
    assertThat(leaf.getPublicKey().getEncoded()).isEqualTo(key.getPublic().getEncoded());
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getExtensionValue(SUBJECT_KEY_ID)).isNull();
    assertThat(leaf.getExtensionValue(AUTHORITY_KEY_ID)).isNull();
    assertThat(leaf.getCriticalExtensionOIDs()).containsExactly(KEY_USAGE);
    assertThat(leaf.getKeyUsage()).startsWith(true, false, false, false, false, false, false);
    assertThat(leaf.getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
    assertThat(sans).containsExactly(List.of(2, "app.example.com"), List.of(7, "10.0.0.1"));
    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(Instant.ofEpochSecond(1_700_000_000L));
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(Instant.ofEpochSecond(1_800_000_000L));
    assertThat(CertExtensions.content(leaf, CertExtensions.APP_ID)).contains(appId);
    assertThat(CertExtensions.content(leaf, CertExtensions.SPECIAL_USAGE))
        .hasValueSatisfying(
            v -> assertThat(new String(v, StandardCharsets.US_ASCII)).isEqualTo("app:custom"));
    VersionedAttestation embedded = RaTlsExtensions.attestation(leaf);
    assertThat(embedded.quote()).isEqualTo(bound(key).quote());
    // The embedded attestation still verifies against the leaf's own key.
    server.guest.verifier().verifyCertificate(leaf, Instant.now());
    leaf.verify(appCa.getPublicKey());

    // Boot-time identity: RTMR3 up to boot-mr-done, no key provider (spec §4.6 step 4).
    assertThat(server.policy.appChecks)
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.keyProviderInfo()).isEmpty();
              assertThat(b.mrAggregated())
                  .isEqualTo(
                      server
                          .guest
                          .verifier()
                          .verify(bound(key), null, Instant.now())
                          .bootInfo(true, "")
                          .mrAggregated());
            });
  }

  @Test
  void extAppInfo_embedsTheRuntimeAppInfo_asDstacksMsgpackArray() throws Exception {
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    CertConfig withAppInfo =
        new CertConfig(
            Optional.empty(),
            "dstack-guest-agent",
            List.of(),
            false,
            true,
            false,
            true,
            OptionalLong.empty(),
            OptionalLong.of(1_800_000_000L));
    VersionedAttestation att = bound(key);
    CertSigningRequest csr =
        new CertSigningRequest(
            ScaleCsr.CONFIRM,
            key.getPublic().getEncoded(),
            withAppInfo,
            new CsrAttestation.Versioned(att.encode()));

    X509Certificate leaf =
        chain(server.anonymousClient().post("SignCert", request(2, csr, key))).get(0);

    byte[] ext = CertExtensions.content(leaf, CertExtensions.APP_INFO).orElseThrow();
    AppInfo expected = server.guest.verifier().verify(att, null, Instant.now()).appInfo(false, "");
    assertThat(ext).isEqualTo(AppInfoExtension.encode(expected));
    List<?> decoded = (List<?>) MsgPack.decode(ext);
    assertThat(decoded).hasSize(9);
    assertThat((byte[]) decoded.get(0)).isEqualTo(server.guest.appId());
    assertThat((byte[]) decoded.get(1)).isEqualTo(server.guest.composeHash());
    assertThat((byte[]) decoded.get(4)).isEqualTo(expected.mrSystem()).hasSize(32);
    assertThat((byte[]) decoded.get(5)).isEqualTo(expected.mrAggregated()).hasSize(32);
    // Runtime identity: the key provider is included (not the boot-time view used for policy).
    assertThat(new String((byte[]) decoded.get(7), StandardCharsets.UTF_8)).contains("local-sgx");
    assertThat((List<?>) decoded.get(8)).isEmpty();
    // Extension order as dstack writes it: app_id, app_info, special usage.
    assertThat(leaf.getNonCriticalExtensionOIDs())
        .contains(CertExtensions.APP_ID, CertExtensions.APP_INFO, CertExtensions.SPECIAL_USAGE);
  }

  @Test
  void appInfoEncoding_isByteExact_forASmallValue() {
    AppInfo small =
        new AppInfo(
            new byte[] {1},
            new byte[] {2},
            new byte[0],
            new byte[] {3},
            new byte[] {4}, // mr_aggregated (record order)
            new byte[] {5}, // mr_system: written before mr_aggregated, as dstack's struct has it
            new byte[0],
            new byte[0],
            new byte[0],
            new byte[0],
            List.of(new byte[] {9}));
    assertThat(HEX.formatHex(AppInfoExtension.encode(small)))
        .isEqualTo(
            "99"
                + "c40101"
                + "c40102"
                + "c400"
                + "c40103"
                + "c40105" // mr_system
                + "c40104" // mr_aggregated
                + "c400"
                + "c400"
                + "91c40109");
  }

  @Test
  void appCa_isStablePerApp_acrossCalls() throws Exception {
    KeyPair k1 = EcKeys.generateP256(new SecureRandom());
    KeyPair k2 = EcKeys.generateP256(new SecureRandom());
    var client = server.anonymousClient();
    X509Certificate ca1 = chain(client.post("SignCert", request(2, v2(k1, bound(k1)), k1))).get(1);
    X509Certificate ca2 = chain(client.post("SignCert", request(2, v2(k2, bound(k2)), k2))).get(1);
    assertThat(ca1.getPublicKey()).isEqualTo(ca2.getPublicKey());
    assertThat(ca1.getSerialNumber()).isEqualTo(ca2.getSerialNumber());
  }

  @Test
  void v1LegacyCsr_withQuoteAndJsonEventLog_isSigned() throws Exception {
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    VersionedAttestation att = bound(key);
    CertConfig legacy =
        new CertConfig(
            Optional.empty(),
            "dstack-guest-agent",
            List.of(),
            false,
            true,
            false,
            false,
            OptionalLong.empty(),
            OptionalLong.empty());
    CertSigningRequest csr =
        new CertSigningRequest(
            ScaleCsr.CONFIRM,
            key.getPublic().getEncoded(),
            legacy,
            new CsrAttestation.LegacyTdx(
                att.quote(), EventLogs.toJson(att.eventLog()).getBytes(StandardCharsets.UTF_8)));

    X509Certificate leaf =
        chain(server.anonymousClient().post("SignCert", request(1, csr, key))).get(0);

    assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=dstack-guest-agent");
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    assertThat(leaf.getExtensionValue(CertExtensions.ATTESTATION)).isNull();
  }

  @Test
  void badSignature_unsupportedVersion_andUnboundAttestation_areRefused() throws Exception {
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    KeyPair other = EcKeys.generateP256(new SecureRandom());
    var client = server.anonymousClient();

    assertThat(error(client.post("SignCert", request(2, v2(key, bound(key)), other))))
        .startsWith("Failed to verify csr signature");
    assertThat(error(client.post("SignCert", request(3, v2(key, bound(key)), key))))
        .isEqualTo("Unsupported API version: 3");
    assertThat(error(client.post("SignCert", request(2, v2(key, bound(other)), key))))
        .startsWith("Quote verification failed: ")
        .contains("REPORT_DATA_MISMATCH");
    assertThat(server.policy.appChecks).isEmpty();
  }

  @Test
  void deniedApp_getsNoCertificate() throws Exception {
    server.policy.allowApps = false;
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    assertThat(
            error(server.anonymousClient().post("SignCert", request(2, v2(key, bound(key)), key))))
        .isEqualTo("Boot denied: app is revoked");
  }
}
