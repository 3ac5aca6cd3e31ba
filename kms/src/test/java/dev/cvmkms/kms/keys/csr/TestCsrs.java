package dev.cvmkms.kms.keys.csr;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;

/** Named builders for test CSRs, and the signing a guest does (JDK ECDSA, DER). */
final class TestCsrs {
  private TestCsrs() {}

  static KeyPair p256() {
    return generate("secp256r1");
  }

  static KeyPair generate(String curve) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec(curve));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A guest-agent style TLS-key CSR config: org, SANs incl. an IP, both usages, validity. */
  static CertConfig appTlsConfig() {
    return new CertConfig(
        Optional.of("Example Org"),
        "app.example.com",
        List.of("app.example.com", "10.0.0.1", "*.app.example.com"),
        true,
        true,
        true,
        true,
        OptionalLong.of(1_700_000_000L),
        OptionalLong.of(1_800_000_000L));
  }

  /** A V1 CertConfig (no app info, no validity overrides). */
  static CertConfig legacyConfig() {
    return new CertConfig(
        Optional.empty(),
        "dstack-guest-agent",
        List.of(),
        false,
        true,
        true,
        false,
        OptionalLong.empty(),
        OptionalLong.empty());
  }

  static CertSigningRequest v2(KeyPair key, byte[] attestation) {
    return new CertSigningRequest(
        ScaleCsr.CONFIRM,
        key.getPublic().getEncoded(),
        appTlsConfig(),
        new CsrAttestation.Versioned(attestation));
  }

  static CertSigningRequest v1(KeyPair key) {
    return new CertSigningRequest(
        ScaleCsr.CONFIRM,
        key.getPublic().getEncoded(),
        legacyConfig(),
        new CsrAttestation.LegacyTdx(
            HexFormat.of().parseHex("0400020081"),
            "[{\"imr\":3,\"event_type\":134217729}]".getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * The smallest V0 attestation (spec §10.8 vector A's tail): V0, DstackTdx, empty quote, empty
   * event log, no runtime events, 64 zero bytes of report_data, empty config.
   */
  static byte[] minimalV0Attestation() {
    return new byte[5 + 64 + 1];
  }

  /** A real guest-agent V0 attestation (9.5 KB). */
  static byte[] guestAgentAttestation() {
    try (InputStream in =
        TestCsrs.class.getResourceAsStream("/keys/vectors/guest-agent-attestation-v0.bin")) {
      if (in == null) {
        throw new IllegalStateException("guest-agent-attestation-v0.bin missing");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What a guest sends: DER ECDSA P-256/SHA-256 over the SCALE bytes. */
  static byte[] sign(KeyPair key, byte[] scale) {
    try {
      Signature signer = Signature.getInstance("SHA256withECDSA");
      signer.initSign(key.getPrivate());
      signer.update(scale);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] vector(String name) {
    try (InputStream in =
        TestCsrs.class.getResourceAsStream("/keys/vectors/csr-vectors.properties")) {
      Properties properties = new Properties();
      properties.load(in);
      return HexFormat.of().parseHex(properties.getProperty(name).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
