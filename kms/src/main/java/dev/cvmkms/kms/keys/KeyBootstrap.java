package dev.cvmkms.kms.keys;

import java.io.IOException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Makes the KMS's key material: new keys for a bootstrap, received keys for onboarding, and the
 * three certificates for either (dstack's {@code Keys::generate} / {@code Keys::from_keys}, spec
 * §8.2).
 *
 * <p>{@code rpcAttester} is present exactly when {@code core.attest_rpc_cert} is on; the RPC
 * certificate then carries an attestation over the RA-TLS report data of its own key.
 */
public final class KeyBootstrap {
  private final SecureRandom random;
  private final Clock clock;

  public KeyBootstrap(SecureRandom random, Clock clock) {
    this.random = Objects.requireNonNull(random, "random");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** With the platform's default strong-enough {@link SecureRandom}, created once. */
  public KeyBootstrap(Clock clock) {
    this(new SecureRandom(), clock);
  }

  /** Four new keys and their certificates for {@code domain} (validated first). */
  public RootKeys generate(String domain, Optional<KeyAttester> rpcAttester) throws IOException {
    Domains.validate(domain);
    return fromKeys(
        EcKeys.generateP256(random),
        EcKeys.generateP256(random),
        EcKeys.generateP256(random),
        EcKeys.generateK256Scalar(random),
        domain,
        rpcAttester);
  }

  /**
   * Onboarding: the temp CA key, root CA key and K256 scalar received from the source KMS
   * (GetKmsKey), a new RPC key, and new certificates for this replica's {@code domain}.
   *
   * @throws IllegalArgumentException if a received key does not parse (message names which)
   */
  public RootKeys fromReceivedKeys(
      String tmpCaKeyPem,
      String rootCaKeyPem,
      byte[] k256Scalar,
      String domain,
      Optional<KeyAttester> rpcAttester)
      throws IOException {
    Domains.validate(domain);
    KeyPair tmpCa = parseReceived(tmpCaKeyPem, "temp_ca_key");
    KeyPair rootCa = parseReceived(rootCaKeyPem, "ca_key");
    try {
      EcKeys.requireK256Scalar(k256Scalar);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("received k256_key: " + e.getMessage(), e);
    }
    return fromKeys(tmpCa, rootCa, EcKeys.generateP256(random), k256Scalar, domain, rpcAttester);
  }

  /**
   * {@link #fromReceivedKeys(String, String, byte[], String, Optional)} from a source whose root CA
   * certificate has the key {@code sourceRoot}: the received root key must be that key, checked
   * before any certificate is made (a source cannot hand over keys other than those it serves).
   *
   * @throws IllegalArgumentException if a received key does not parse or the root key differs
   */
  public RootKeys fromReceivedKeys(
      String tmpCaKeyPem,
      String rootCaKeyPem,
      byte[] k256Scalar,
      String domain,
      Optional<KeyAttester> rpcAttester,
      java.security.PublicKey sourceRoot)
      throws IOException {
    KeyPair rootCa = parseReceived(rootCaKeyPem, "ca_key");
    if (!EcKeys.samePublicKey(rootCa.getPublic(), sourceRoot)) {
      throw new IllegalArgumentException(
          "received ca_key does not match the source's root CA certificate");
    }
    return fromReceivedKeys(tmpCaKeyPem, rootCaKeyPem, k256Scalar, domain, rpcAttester);
  }

  /** Certificates for existing keys: self-signed temp and root CA, RPC leaf under the root. */
  public RootKeys fromKeys(
      KeyPair tmpCaKey,
      KeyPair rootCaKey,
      KeyPair rpcKey,
      byte[] k256Scalar,
      String domain,
      Optional<KeyAttester> rpcAttester)
      throws IOException {
    Instant now = clock.instant();
    X509Certificate tmpCaCert = CertificateIssuer.tempCa(tmpCaKey, now);
    X509Certificate rootCaCert = CertificateIssuer.rootCa(rootCaKey, now);
    CertifiedKey rootCa = CertifiedKey.issued(rootCaKey, rootCaCert);
    CertifiedKey rpc =
        CertifiedKey.issued(rpcKey, issueRpcCert(rpcKey, domain, rootCa, rpcAttester, now));
    return new RootKeys(CertifiedKey.issued(tmpCaKey, tmpCaCert), rootCa, rpc, k256Scalar, domain);
  }

  /**
   * Onboard.Bootstrap steps 4–7 (spec §5.3): new keys, the key attestation of §8.4, then {@code
   * bootstrap-info.json} written before the keys and certificates.
   */
  public BootstrapInfo bootstrap(
      String domain, Optional<KeyAttester> rpcAttester, KeyAttester keyAttester, KeyStore store)
      throws IOException {
    RootKeys keys = generate(domain, rpcAttester);
    BootstrapInfo info = attestKeys(keys, keyAttester);
    store.save(keys, Optional.of(info));
    return info;
  }

  /** The bootstrap info for {@code keys}: public keys and an attestation over them (§8.4). */
  public static BootstrapInfo attestKeys(RootKeys keys, KeyAttester attester) throws IOException {
    byte[] caPubkey = keys.rootCaSpkiDer();
    byte[] k256Pubkey = keys.k256CompressedPublicKey();
    byte[] attestation =
        requireAttestation(attester.attest(ReportData.forBootstrap(caPubkey, k256Pubkey)));
    return new BootstrapInfo(caPubkey, k256Pubkey, attestation);
  }

  /** A new RPC certificate for {@code rpcKey} under {@code rootCa}, attested if asked. */
  static X509Certificate issueRpcCert(
      KeyPair rpcKey,
      String domain,
      CertifiedKey rootCa,
      Optional<KeyAttester> rpcAttester,
      Instant now)
      throws IOException {
    Optional<byte[]> attestation = Optional.empty();
    if (rpcAttester.isPresent()) {
      byte[] reportData = ReportData.forRaTlsCert(EcKeys.spkiDer(rpcKey.getPublic()));
      attestation = Optional.of(requireAttestation(rpcAttester.get().attest(reportData)));
    }
    return CertificateIssuer.rpcCert(
        rpcKey.getPublic(), domain, attestation, rootCa.cert(), rootCa.key().getPrivate(), now);
  }

  private static byte[] requireAttestation(byte[] attestation) throws IOException {
    if (attestation == null || attestation.length == 0) {
      throw new IOException("the attester returned no attestation");
    }
    return Arrays.copyOf(attestation, attestation.length);
  }

  private static KeyPair parseReceived(String pem, String field) {
    try {
      return EcKeys.parseP256Pkcs8Pem(pem);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("received " + field + ": " + e.getMessage(), e);
    }
  }
}
