package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.encoding.Pem;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.junit.jupiter.api.Test;

class CertificateIssuerTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Instant NOW = TestKeys.NOW;
  private static final String KEY_USAGE = "2.5.29.15";
  private static final String BASIC_CONSTRAINTS = "2.5.29.19";
  private static final String SKI = "2.5.29.14";
  private static final String AKI = "2.5.29.35";
  private static final String SAN = "2.5.29.17";
  private static final String EKU = "2.5.29.37";

  private final KeyPair rootKey = EcKeys.generateP256(RANDOM);
  private final X509Certificate root = CertificateIssuer.rootCa(rootKey, NOW);

  @Test
  void tempCa_hasDstackProfile() throws Exception {
    KeyPair key = EcKeys.generateP256(RANDOM);
    X509Certificate cert = CertificateIssuer.tempCa(key, NOW);

    assertDn(cert.getSubjectX500Principal().getEncoded(), "Dstack", "Dstack Client Temp CA");
    assertThat(cert.getIssuerX500Principal().getEncoded())
        .isEqualTo(cert.getSubjectX500Principal().getEncoded());
    assertThat(cert.getBasicConstraints()).isZero();
    assertCaExtensions(cert, key);
    cert.verify(key.getPublic());
  }

  @Test
  void rootCa_hasDstackProfile() throws Exception {
    assertDn(root.getSubjectX500Principal().getEncoded(), "Dstack", "Dstack KMS CA");
    assertThat(root.getIssuerX500Principal().getEncoded())
        .isEqualTo(root.getSubjectX500Principal().getEncoded());
    assertThat(root.getBasicConstraints()).isEqualTo(1);
    assertCaExtensions(root, rootKey);
    root.verify(rootKey.getPublic());
  }

  @Test
  void rpcCert_forDnsName_hasDstackProfileAndChainsToRoot() throws Exception {
    KeyPair rpcKey = EcKeys.generateP256(RANDOM);
    byte[] attestation = {0x00, 0x01, 0x02, (byte) 0xff};
    X509Certificate cert =
        CertificateIssuer.rpcCert(
            rpcKey.getPublic(),
            "kms.example.com",
            Optional.of(attestation),
            root,
            rootKey.getPrivate(),
            NOW);

    X500Name subject = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    assertThat(subject.getRDNs()).hasSize(1);
    assertUtf8(subject.getRDNs()[0], BCStyle.CN.getId(), "kms.example.com");
    assertThat(cert.getIssuerX500Principal().getEncoded())
        .isEqualTo(root.getSubjectX500Principal().getEncoded());
    assertThat(cert.getSubjectAlternativeNames())
        .containsExactly(List.of(GeneralName.dNSName, "kms.example.com"));
    assertThat(cert.getKeyUsage()).startsWith(true, false, false, false, false, false, false);
    assertThat(cert.getCriticalExtensionOIDs()).containsExactly(KEY_USAGE);
    assertThat(cert.getExtendedKeyUsage()).isNull();
    assertThat(cert.getBasicConstraints()).isEqualTo(-1);
    assertThat(cert.getExtensionValue(SKI)).isNull();
    assertThat(cert.getExtensionValue(AKI)).isNull();
    assertThat(extensionOrder(cert))
        .containsExactly(SAN, KEY_USAGE, CertExtensions.SPECIAL_USAGE, CertExtensions.ATTESTATION);
    assertThat(cert.getNonCriticalExtensionOIDs())
        .contains(CertExtensions.SPECIAL_USAGE, CertExtensions.ATTESTATION);

    // extnValue wire form: OCTET STRING(OCTET STRING("kms:rpc")), as the JDK returns it.
    assertThat(cert.getExtensionValue(CertExtensions.SPECIAL_USAGE))
        .isEqualTo(HexFormat.of().parseHex("0409" + "0407" + "6b6d733a727063"));
    assertThat(CertExtensions.content(cert, CertExtensions.SPECIAL_USAGE))
        .hasValue("kms:rpc".getBytes(StandardCharsets.UTF_8));
    assertThat(cert.getExtensionValue(CertExtensions.ATTESTATION))
        .isEqualTo(HexFormat.of().parseHex("0406" + "0404" + "000102ff"));
    assertThat(CertExtensions.content(cert, CertExtensions.ATTESTATION)).hasValue(attestation);

    assertCommon(cert, rpcKey);
    cert.verify(rootKey.getPublic());
    assertChainVerifies(cert, root);
  }

  @Test
  void rpcCert_forLocalhost_alsoNamesLoopbackIp() throws Exception {
    KeyPair rpcKey = EcKeys.generateP256(RANDOM);
    X509Certificate cert =
        CertificateIssuer.rpcCert(
            rpcKey.getPublic(), "localhost", Optional.empty(), root, rootKey.getPrivate(), NOW);

    assertThat(cert.getSubjectAlternativeNames())
        .containsExactly(
            List.of(GeneralName.dNSName, "localhost"), List.of(GeneralName.iPAddress, "127.0.0.1"));
  }

  @Test
  void rpcCert_forIpLiteral_usesIpAddressSan() throws Exception {
    KeyPair rpcKey = EcKeys.generateP256(RANDOM);
    X509Certificate cert =
        CertificateIssuer.rpcCert(
            rpcKey.getPublic(), "127.0.0.1", Optional.empty(), root, rootKey.getPrivate(), NOW);

    assertThat(cert.getSubjectAlternativeNames())
        .containsExactly(List.of(GeneralName.iPAddress, "127.0.0.1"));
    assertThat(CertExtensions.content(cert, CertExtensions.ATTESTATION)).isEmpty();
    assertThat(extensionOrder(cert)).containsExactly(SAN, KEY_USAGE, CertExtensions.SPECIAL_USAGE);
  }

  @Test
  void serial_isTruncatedSha256OfPointWithTopBitCleared_andStablePerKey() throws Exception {
    for (int i = 0; i < 20; i++) {
      KeyPair key = EcKeys.generateP256(RANDOM);
      X509Certificate cert = CertificateIssuer.tempCa(key, NOW);
      byte[] expected =
          Arrays.copyOf(
              MessageDigest.getInstance("SHA-256")
                  .digest(EcKeys.uncompressedPoint(key.getPublic())),
              20);
      expected[0] &= 0x7f;
      assertThat(cert.getSerialNumber()).isEqualTo(new BigInteger(1, expected));
      assertThat(cert.getSerialNumber().bitLength()).isLessThanOrEqualTo(159);
      assertThat(CertificateIssuer.tempCa(key, NOW.plusSeconds(99)).getSerialNumber())
          .isEqualTo(cert.getSerialNumber());
    }
  }

  @Test
  void validity_is1975ToNowPlus3650Days_utcTimeBefore2050() throws Exception {
    X509Certificate cert = root;
    assertThat(cert.getNotBefore().toInstant()).isEqualTo(Instant.parse("1975-01-01T00:00:00Z"));
    assertThat(cert.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(3650)));
    TBSCertificate tbs = Certificate.getInstance(cert.getEncoded()).getTBSCertificate();
    assertThat(tbs.getStartDate().toASN1Primitive()).isInstanceOf(ASN1UTCTime.class);
    assertThat(tbs.getStartDate().toASN1Primitive().getEncoded())
        .isEqualTo(("\u0017\r" + "750101000000Z").getBytes(StandardCharsets.US_ASCII));
    assertThat(tbs.getEndDate().toASN1Primitive()).isInstanceOf(ASN1UTCTime.class);
  }

  @Test
  void validity_usesGeneralizedTimeFrom2050() throws Exception {
    Instant late = Instant.parse("2045-06-01T08:30:15.123Z");
    X509Certificate cert = CertificateIssuer.rootCa(rootKey, late);
    TBSCertificate tbs = Certificate.getInstance(cert.getEncoded()).getTBSCertificate();
    assertThat(tbs.getEndDate().toASN1Primitive()).isInstanceOf(ASN1GeneralizedTime.class);
    assertThat(cert.getNotAfter().toInstant()).isEqualTo(Instant.parse("2055-05-30T08:30:15Z"));
  }

  @Test
  void caAndLeaf_useEcdsaWithSha256_andVersion3() throws Exception {
    assertCommon(root, rootKey);
  }

  @Test
  void pem_has64CharacterLinesAndLfEndings() {
    String pem = Pem.certificate(root);
    assertThat(pem)
        .startsWith("-----BEGIN CERTIFICATE-----\n")
        .endsWith("-----END CERTIFICATE-----\n");
    assertThat(pem).doesNotContain("\r");
    List<String> body = pem.lines().toList().subList(1, (int) pem.lines().count() - 1);
    assertThat(body.subList(0, body.size() - 1)).allSatisfy(l -> assertThat(l).hasSize(64));
    assertThat(body.getLast().length()).isBetween(1, 64);
    assertThat(Pem.parseCertificate(pem)).isEqualTo(root);
  }

  @Test
  void genericProfile_addsEkuAfterKeyUsage() throws Exception {
    KeyPair key = EcKeys.generateP256(RANDOM);
    var profile =
        new CertProfile(
            Optional.of("Org"),
            "leaf",
            List.of("a.example", "::1"),
            java.util.OptionalInt.empty(),
            true,
            true,
            List.of(new CertProfile.CustomExtension(CertExtensions.APP_ID, new byte[20])),
            Optional.empty(),
            Optional.of(Instant.parse("2030-01-01T00:00:00Z")));
    X509Certificate cert =
        CertificateIssuer.issue(
            profile,
            key.getPublic().getEncoded(),
            CertificateIssuer.subjectOf(root),
            rootKey.getPrivate(),
            NOW);
    assertThat(extensionOrder(cert)).containsExactly(SAN, KEY_USAGE, EKU, CertExtensions.APP_ID);
    assertThat(cert.getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(cert.getSubjectAlternativeNames())
        .containsExactly(
            List.of(GeneralName.dNSName, "a.example"),
            List.of(GeneralName.iPAddress, "0:0:0:0:0:0:0:1"));
    assertThat(cert.getNotAfter()).isEqualTo(Date.from(Instant.parse("2030-01-01T00:00:00Z")));
  }

  private static void assertCaExtensions(X509Certificate cert, KeyPair key) throws Exception {
    assertThat(cert.getKeyUsage()).startsWith(true, false, false, false, false, true, true, false);
    assertThat(cert.getCriticalExtensionOIDs())
        .containsExactlyInAnyOrder(KEY_USAGE, BASIC_CONSTRAINTS);
    assertThat(cert.getNonCriticalExtensionOIDs()).containsExactly(SKI);
    assertThat(extensionOrder(cert)).containsExactly(KEY_USAGE, SKI, BASIC_CONSTRAINTS);
    byte[] expectedSki =
        Arrays.copyOf(
            MessageDigest.getInstance("SHA-256").digest(key.getPublic().getEncoded()), 20);
    assertThat(CertExtensions.content(cert, SKI)).hasValue(expectedSki);
    assertThat(cert.getExtensionValue(AKI)).isNull();
    assertThat(cert.getSubjectAlternativeNames()).isNull();
    assertCommon(cert, key);
  }

  private static void assertCommon(X509Certificate cert, KeyPair key) {
    assertThat(cert.getVersion()).isEqualTo(3);
    assertThat(cert.getSigAlgOID()).isEqualTo("1.2.840.10045.4.3.2");
    assertThat(cert.getSigAlgParams()).isNull();
    assertThat(cert.getPublicKey().getEncoded())
        .isEqualTo(key.getPublic().getEncoded())
        .hasSize(91);
  }

  private static void assertDn(byte[] encoded, String org, String cn) {
    RDN[] rdns = X500Name.getInstance(encoded).getRDNs();
    assertThat(rdns).hasSize(2);
    assertUtf8(rdns[0], BCStyle.O.getId(), org);
    assertUtf8(rdns[1], BCStyle.CN.getId(), cn);
  }

  private static void assertUtf8(RDN rdn, String oid, String value) {
    assertThat(rdn.isMultiValued()).isFalse();
    assertThat(rdn.getFirst().getType().getId()).isEqualTo(oid);
    var primitive = rdn.getFirst().getValue().toASN1Primitive();
    assertThat(primitive.toASN1Primitive())
        .isInstanceOf(org.bouncycastle.asn1.ASN1UTF8String.class);
    assertThat(((org.bouncycastle.asn1.ASN1String) primitive).getString()).isEqualTo(value);
  }

  static List<String> extensionOrder(X509Certificate cert) throws Exception {
    var extensions = Certificate.getInstance(cert.getEncoded()).getTBSCertificate().getExtensions();
    return Arrays.stream(extensions.getExtensionOIDs()).map(o -> o.getId()).toList();
  }

  static void assertChainVerifies(X509Certificate leaf, X509Certificate anchor) throws Exception {
    var path = CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf));
    var params = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
    params.setRevocationEnabled(false);
    params.setDate(Date.from(NOW));
    CertPathValidator.getInstance("PKIX").validate(path, params);
  }
}
