package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.attestation.dcap.Certs;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.service.KmsAttestation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code kms serve} refuses, judged all at once before any listener opens, so an operator
 * fixes everything in one round: the insecure settings (each allowed by {@code --allow-insecure}),
 * and the mock TDX — as trust root or as the attestation provider — which {@code serve} never
 * accepts ({@code kms dev} is the command for it).
 */
final class ProductionProfile {
  private static final Logger LOG = LoggerFactory.getLogger(ProductionProfile.class);
  private static final String MOCK_ROOT_CN = "CN=Mock Intel SGX Root CA";

  /** One refused setting: its name and how to allow it (empty: it cannot be allowed). */
  record Offence(String setting, Optional<String> howToAllow) {
    String line() {
      return setting + ": " + howToAllow.orElse("never allowed under `kms serve`; use `kms dev`");
    }
  }

  private ProductionProfile() {}

  /** Everything refused under {@code serve}; empty for a production configuration. */
  static List<Offence> check(KmsConfig config, Optional<KmsAttestation> attestation) {
    List<Offence> out = new ArrayList<>();
    for (String setting : config.insecureSettings()) {
      out.add(
          new Offence(
              setting,
              Optional.of(
                  "weakens security; remove it (the default is the secure value) or pass"
                      + " --allow-insecure")));
    }
    config
        .attestation()
        .tdxRootCa()
        .filter(ProductionProfile::isMockRootFile)
        .ifPresent(
            p ->
                out.add(
                    new Offence(
                        "core.attestation.root_ca.tdx = " + p + " is the MOCK TDX root CA",
                        Optional.empty())));
    attestation
        .flatMap(ProductionProfile::mockProvider)
        .ifPresent(what -> out.add(new Offence(what, Optional.empty())));
    return List.copyOf(out);
  }

  /** Whether any offence cannot be allowed by {@code --allow-insecure}. */
  static boolean anyUnallowable(List<Offence> offences) {
    return offences.stream().anyMatch(o -> o.howToAllow().isEmpty());
  }

  private static boolean isMockRootFile(Path file) {
    try {
      List<X509Certificate> certs =
          Certs.parsePemChain(Files.readString(file, StandardCharsets.UTF_8), "root_ca.tdx");
      return !certs.isEmpty() && isMockRoot(certs.get(0));
    } catch (java.io.IOException | RuntimeException e) {
      return false; // an unreadable root fails later with its own message
    }
  }

  /**
   * Asks the provider for one attestation and checks where its quote's PCK chain ends: the mock
   * TDX's root means the "guest agent" is a mock (e.g. a simulator), whose quotes prove nothing.
   */
  private static Optional<String> mockProvider(KmsAttestation attestation) {
    try {
      VersionedAttestation a = VersionedAttestation.decode(attestation.attest(new byte[64]));
      List<X509Certificate> chain =
          Certs.parsePemChain(TdxQuote.parse(a.quote()).pckChainPem(), "PCK chain");
      if (!chain.isEmpty() && isMockRoot(chain.get(chain.size() - 1))) {
        return Optional.of(
            "the attestation provider (" + attestation.provider() + ") makes MOCK TDX quotes");
      }
    } catch (RuntimeException e) {
      // Unreachable or malformed: the start fails later where it needs an attestation.
      LOG.debug("could not check the attestation provider at start-up: {}", e.toString());
    }
    return Optional.empty();
  }

  static boolean isMockRoot(X509Certificate cert) {
    if (cert.getSubjectX500Principal().getName().startsWith(MOCK_ROOT_CN)) {
      return true;
    }
    try {
      return Arrays.equals(
          cert.getEncoded(), new MockTdxPki(MockTdx.defaultSeed()).root().getEncoded());
    } catch (CertificateEncodingException e) {
      return false;
    }
  }
}
