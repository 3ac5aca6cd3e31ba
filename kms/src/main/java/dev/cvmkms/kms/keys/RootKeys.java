package dev.cvmkms.kms.keys;

import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The KMS's four long-lived keys (root CA P-256, root K256 secp256k1, temp CA P-256, RPC P-256),
 * their three certificates and the RPC domain.
 *
 * <p>Public material has plain accessors. Secret material leaves only through methods whose names
 * start with {@code secret}; {@link #toString()} shows public facts only.
 */
public final class RootKeys {
  private final CertifiedKey tmpCa;
  private final CertifiedKey rootCa;
  private final CertifiedKey rpc;
  private final byte[] k256Scalar;
  private final byte[] k256PublicKey;
  private final String rpcDomain;

  RootKeys(
      CertifiedKey tmpCa, CertifiedKey rootCa, CertifiedKey rpc, byte[] k256Scalar, String domain) {
    this.tmpCa = Objects.requireNonNull(tmpCa, "tmpCa");
    this.rootCa = Objects.requireNonNull(rootCa, "rootCa");
    this.rpc = Objects.requireNonNull(rpc, "rpc");
    this.k256Scalar = k256Scalar.clone();
    this.k256PublicKey = EcKeys.k256CompressedPublicKey(this.k256Scalar);
    this.rpcDomain = Objects.requireNonNull(domain, "domain");
  }

  /** The domain the RPC certificate is issued for. */
  public String rpcDomain() {
    return rpcDomain;
  }

  // ---- public material ----

  /** Root CA SubjectPublicKeyInfo DER (91 bytes): the guests' key-provider id. */
  public byte[] rootCaSpkiDer() {
    return EcKeys.spkiDer(rootCa.key().getPublic());
  }

  public PublicKey rootCaPublicKey() {
    return rootCa.key().getPublic();
  }

  /** Compressed 33-byte secp256k1 public key of the root K256 key. */
  public byte[] k256CompressedPublicKey() {
    return k256PublicKey.clone();
  }

  /** {@code root-ca.crt} as stored (GetMeta, GetAppKey, GetTempCaCert, SignCert chain). */
  public String rootCaCertPem() {
    return rootCa.certPem();
  }

  /** {@code tmp-ca.crt} as stored; also the mTLS trust anchor for client certificates. */
  public String tmpCaCertPem() {
    return tmpCa.certPem();
  }

  /** {@code rpc.crt} as stored: the TLS server certificate, leaf only. */
  public String rpcCertPem() {
    return rpc.certPem();
  }

  public X509Certificate rootCaCertificate() {
    return rootCa.cert();
  }

  public X509Certificate tmpCaCertificate() {
    return tmpCa.cert();
  }

  public X509Certificate rpcCertificate() {
    return rpc.cert();
  }

  // ---- secret material ----

  /** {@code tmp-ca.key} PEM as stored (GetTempCaCert, GetKmsKey hand it out by design). */
  public String secretTmpCaKeyPem() {
    return tmpCa.keyPem();
  }

  /** {@code root-ca.key} PKCS#8 PEM as stored (GetKmsKey replication only). */
  public String secretRootCaKeyPem() {
    return rootCa.keyPem();
  }

  /** {@code rpc.key} PKCS#8 PEM: the TLS server key. */
  public String secretRpcKeyPem() {
    return rpc.keyPem();
  }

  /** The root CA key pair: signs App CAs; its scalar is the key-derivation root. */
  public KeyPair secretRootCaKeyPair() {
    return rootCa.key();
  }

  /** The temp CA key pair. */
  public KeyPair secretTmpCaKeyPair() {
    return tmpCa.key();
  }

  /** The RPC key pair. */
  public KeyPair secretRpcKeyPair() {
    return rpc.key();
  }

  /** The root K256 private scalar, 32 bytes big-endian (a copy). */
  public byte[] secretK256Scalar() {
    return k256Scalar.clone();
  }

  // ---- package internals ----

  CertifiedKey tmpCa() {
    return tmpCa;
  }

  CertifiedKey rootCa() {
    return rootCa;
  }

  CertifiedKey rpc() {
    return rpc;
  }

  /** Same keys, new certificates/domain. */
  RootKeys with(CertifiedKey newTmpCa, CertifiedKey newRootCa, CertifiedKey newRpc, String domain) {
    return new RootKeys(newTmpCa, newRootCa, newRpc, k256Scalar, domain);
  }

  @Override
  public String toString() {
    return "RootKeys[domain="
        + rpcDomain
        + ", k256Pubkey="
        + HexFormat.of().formatHex(k256PublicKey)
        + ", rootCa="
        + rootCa.cert().getSubjectX500Principal()
        + ", secrets=REDACTED]";
  }
}
