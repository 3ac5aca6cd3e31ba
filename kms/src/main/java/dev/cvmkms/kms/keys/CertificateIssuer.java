package dev.cvmkms.kms.keys;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * Mints certificates exactly as dstack's rcgen-based code does (spec §8.3): ecdsa-with-SHA256,
 * serial from the subject key, UTF8String names with O before CN, notBefore 1975-01-01, extensions
 * in rcgen's order, no AuthorityKeyIdentifier.
 */
public final class CertificateIssuer {
  public static final String ORG = "Dstack";
  public static final String TEMP_CA_CN = "Dstack Client Temp CA";
  public static final String ROOT_CA_CN = "Dstack KMS CA";
  public static final Instant DEFAULT_NOT_BEFORE = Instant.parse("1975-01-01T00:00:00Z");
  public static final Duration DEFAULT_VALIDITY = Duration.ofDays(3650);

  private CertificateIssuer() {}

  /** {@code tmp-ca.crt}: O=Dstack, CN=Dstack Client Temp CA, pathLen 0, self-signed. */
  public static X509Certificate tempCa(KeyPair key, Instant now) {
    return selfSigned(CertProfile.ca(ORG, TEMP_CA_CN, 0), key, now);
  }

  /** {@code root-ca.crt}: O=Dstack, CN=Dstack KMS CA, pathLen 1, self-signed. */
  public static X509Certificate rootCa(KeyPair key, Instant now) {
    return selfSigned(CertProfile.ca(ORG, ROOT_CA_CN, 1), key, now);
  }

  /**
   * {@code rpc.crt}: CN and SAN = domain, special usage {@code kms:rpc}, the attestation extension
   * if given, signed by the root CA.
   */
  public static X509Certificate rpcCert(
      PublicKey rpcKey,
      String domain,
      Optional<byte[]> attestation,
      X509Certificate rootCaCert,
      PrivateKey rootCaKey,
      Instant now) {
    List<CertProfile.CustomExtension> custom = new ArrayList<>();
    custom.add(
        new CertProfile.CustomExtension(
            CertExtensions.SPECIAL_USAGE,
            CertExtensions.USAGE_KMS_RPC.getBytes(StandardCharsets.UTF_8)));
    attestation.ifPresent(
        a -> custom.add(new CertProfile.CustomExtension(CertExtensions.ATTESTATION, a)));
    return issue(
        CertProfile.leaf(domain, subjectAltNames(domain), custom),
        rpcKey.getEncoded(),
        subjectOf(rootCaCert),
        rootCaKey,
        now);
  }

  /**
   * The RPC certificate's names: the domain, and for {@code localhost} also {@code 127.0.0.1}, so a
   * local KMS ({@code kms dev}) verifies whichever loopback name a client dials.
   */
  static List<String> subjectAltNames(String domain) {
    return domain.equals("localhost") ? List.of(domain, "127.0.0.1") : List.of(domain);
  }

  /** A certificate for {@code key} signed by itself. */
  public static X509Certificate selfSigned(CertProfile profile, KeyPair key, Instant now) {
    return issue(
        profile, key.getPublic().getEncoded(), distinguishedName(profile), key.getPrivate(), now);
  }

  /**
   * Issues a certificate for the subject key {@code subjectSpkiDer} under {@code issuerName},
   * signed with the P-256 {@code issuerKey}.
   */
  public static X509Certificate issue(
      CertProfile profile,
      byte[] subjectSpkiDer,
      X500Name issuerName,
      PrivateKey issuerKey,
      Instant now) {
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(subjectSpkiDer);
    Instant notBefore = profile.notBefore().orElse(DEFAULT_NOT_BEFORE);
    Instant notAfter =
        profile.notAfter().orElse(now.truncatedTo(ChronoUnit.SECONDS).plus(DEFAULT_VALIDITY));
    var builder =
        new X509v3CertificateBuilder(
            issuerName,
            serialNumber(spki),
            new Time(Date.from(notBefore)),
            new Time(Date.from(notAfter)),
            distinguishedName(profile),
            spki);
    try {
      addExtensions(builder, profile, subjectSpkiDer);
      var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey);
      return toJdk(builder.build(signer).getEncoded());
    } catch (CertIOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot build certificate: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode certificate", e);
    }
  }

  private static void addExtensions(
      X509v3CertificateBuilder builder, CertProfile profile, byte[] subjectSpkiDer)
      throws CertIOException {
    boolean ca = profile.caPathLen().isPresent();
    if (!profile.altNames().isEmpty()) {
      GeneralName[] names =
          profile.altNames().stream().map(CertificateIssuer::altName).toArray(GeneralName[]::new);
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
    }
    int usage =
        ca
            ? KeyUsage.digitalSignature | KeyUsage.keyCertSign | KeyUsage.cRLSign
            : KeyUsage.digitalSignature;
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
    if (profile.serverAuth() || profile.clientAuth()) {
      List<KeyPurposeId> purposes = new ArrayList<>();
      if (profile.serverAuth()) {
        purposes.add(KeyPurposeId.id_kp_serverAuth);
      }
      if (profile.clientAuth()) {
        purposes.add(KeyPurposeId.id_kp_clientAuth);
      }
      builder.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(purposes.toArray(KeyPurposeId[]::new)));
    }
    if (ca) {
      builder.addExtension(
          Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(subjectSpkiDer)));
      builder.addExtension(
          Extension.basicConstraints, true, new BasicConstraints(profile.caPathLen().getAsInt()));
    }
    for (CertProfile.CustomExtension ext : profile.customExtensions()) {
      builder.addExtension(
          new ASN1ObjectIdentifier(ext.oid()), false, new DEROctetString(ext.content()));
    }
  }

  /** {@code O=<org>} (if any) then {@code CN=<cn>}, both UTF8String, one attribute per RDN. */
  public static X500Name distinguishedName(CertProfile profile) {
    List<RDN> rdns = new ArrayList<>(2);
    profile.org().ifPresent(o -> rdns.add(new RDN(BCStyle.O, new DERUTF8String(o))));
    rdns.add(new RDN(BCStyle.CN, new DERUTF8String(profile.commonName())));
    return new X500Name(rdns.toArray(RDN[]::new));
  }

  /** The certificate's subject name exactly as encoded (used as issuer of what it signs). */
  public static X500Name subjectOf(X509Certificate cert) {
    return X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
  }

  /**
   * rcgen's default serial: the first 20 bytes of SHA-256 over the subject public key bits (the
   * 65-byte uncompressed point for EC), top bit cleared so the INTEGER is positive.
   */
  public static BigInteger serialNumber(SubjectPublicKeyInfo spki) {
    byte[] hash = sha256(spki.getPublicKeyData().getOctets());
    byte[] serial = Arrays.copyOf(hash, 20);
    serial[0] &= 0x7f;
    return new BigInteger(1, serial);
  }

  /** CA SubjectKeyIdentifier: first 20 bytes of SHA-256(SubjectPublicKeyInfo DER). */
  public static byte[] keyId(byte[] spkiDer) {
    return Arrays.copyOf(sha256(spkiDer), 20);
  }

  private static GeneralName altName(String name) {
    if (Domains.isIpv4Literal(name) || IPAddress.isValidIPv6(name)) {
      return new GeneralName(GeneralName.iPAddress, name);
    }
    if (!StandardCharsets.US_ASCII.newEncoder().canEncode(name)) {
      throw new IllegalArgumentException("subject alt name is not an IA5 (ASCII) string");
    }
    return new GeneralName(GeneralName.dNSName, name);
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  private static X509Certificate toJdk(byte[] der) {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException e) {
      throw new IllegalStateException("JDK rejects a certificate we built", e);
    }
  }
}
