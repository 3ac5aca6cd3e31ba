package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.encoding.Pem;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.jspecify.annotations.Nullable;

/**
 * dstack's {@code cert_dir} file names and formats (spec §8.1), and the translation between those
 * files' bytes and {@link RootKeys}. Shared by every {@link KeyStore} so they judge state alike.
 */
final class CertDirFiles {
  static final String TMP_CA_KEY = "tmp-ca.key";
  static final String TMP_CA_CERT = "tmp-ca.crt";
  static final String ROOT_CA_KEY = "root-ca.key";
  static final String ROOT_CA_CERT = "root-ca.crt";
  static final String RPC_KEY = "rpc.key";
  static final String RPC_CERT = "rpc.crt";
  static final String K256_KEY = "root-k256.key";
  static final String RPC_DOMAIN = "rpc-domain";
  static final String BOOTSTRAP_INFO = "bootstrap-info.json";

  /** Key files in dstack's write order. */
  static final List<String> KEY_FILES = List.of(TMP_CA_KEY, ROOT_CA_KEY, RPC_KEY, K256_KEY);

  /** Certificate files in dstack's write order. */
  static final List<String> CERT_FILES = List.of(TMP_CA_CERT, ROOT_CA_CERT, RPC_CERT);

  static final List<String> REQUIRED =
      List.of(TMP_CA_KEY, ROOT_CA_KEY, RPC_KEY, K256_KEY, TMP_CA_CERT, ROOT_CA_CERT, RPC_CERT);

  static final String RECOVERY =
      "Restore these files from a backup of this cert_dir (or copy them from the replica they came"
          + " from). Never delete existing key files to start over: root-ca.key, root-k256.key and"
          + " tmp-ca.key cannot be regenerated, and every app's keys derive from them.";

  private CertDirFiles() {}

  /**
   * The order in which a committed set is published: bootstrap info and certificates first, the
   * root keys last (so a set is judged complete only once everything else is in place).
   */
  static int publishOrder(String a, String b) {
    return Integer.compare(publishRank(a), publishRank(b));
  }

  private static int publishRank(String name) {
    List<String> order =
        List.of(
            BOOTSTRAP_INFO,
            RPC_DOMAIN,
            TMP_CA_CERT,
            ROOT_CA_CERT,
            RPC_CERT,
            RPC_KEY,
            TMP_CA_KEY,
            ROOT_CA_KEY,
            K256_KEY);
    int i = order.indexOf(name);
    return i < 0 ? order.size() : i;
  }

  static boolean isSecret(String name) {
    return KEY_FILES.contains(name);
  }

  static String fileName(KeyStore.CertFile cert) {
    return switch (cert) {
      case TMP_CA -> TMP_CA_CERT;
      case ROOT_CA -> ROOT_CA_CERT;
      case RPC -> RPC_CERT;
    };
  }

  /** EMPTY if no key file exists, COMPLETE if all seven files exist, else an exception. */
  static KeyStore.State detect(Set<String> present, String where) throws KeyStoreException {
    if (KEY_FILES.stream().noneMatch(present::contains)) {
      return KeyStore.State.EMPTY;
    }
    List<String> missing = REQUIRED.stream().filter(f -> !present.contains(f)).toList();
    if (missing.isEmpty()) {
      return KeyStore.State.COMPLETE;
    }
    List<String> found = REQUIRED.stream().filter(present::contains).toList();
    throw new KeyStoreException(
        where
            + " holds an incomplete key set: missing "
            + String.join(", ", missing)
            + " (present: "
            + String.join(", ", found)
            + "). "
            + RECOVERY);
  }

  /** Files of a fresh key set, in write order: keys, certificates, rpc-domain. */
  static Map<String, byte[]> encode(RootKeys keys) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(TMP_CA_KEY, utf8(keys.tmpCa().keyPem()));
    files.put(ROOT_CA_KEY, utf8(keys.rootCa().keyPem()));
    files.put(RPC_KEY, utf8(keys.rpc().keyPem()));
    files.put(K256_KEY, keys.secretK256Scalar());
    files.putAll(encodeCertificates(keys, Set.of(KeyStore.CertFile.values())));
    files.put(RPC_DOMAIN, utf8(keys.rpcDomain()));
    return files;
  }

  /** The chosen certificate files, in write order. */
  static Map<String, byte[]> encodeCertificates(RootKeys keys, Set<KeyStore.CertFile> which) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    if (which.contains(KeyStore.CertFile.TMP_CA)) {
      files.put(TMP_CA_CERT, utf8(keys.tmpCaCertPem()));
    }
    if (which.contains(KeyStore.CertFile.ROOT_CA)) {
      files.put(ROOT_CA_CERT, utf8(keys.rootCaCertPem()));
    }
    if (which.contains(KeyStore.CertFile.RPC)) {
      files.put(RPC_CERT, utf8(keys.rpcCertPem()));
    }
    return files;
  }

  /**
   * Parses and cross-checks stored files. {@code files} maps each present name to its bytes.
   *
   * @throws KeyStoreException listing every bad or missing file
   */
  static RootKeys decode(Map<String, byte[]> files, String where) throws KeyStoreException {
    List<String> problems = new ArrayList<>();
    for (String name : REQUIRED) {
      if (!files.containsKey(name)) {
        problems.add(name + " is missing");
      }
    }
    CertifiedKey tmpCa = pair(files, TMP_CA_KEY, TMP_CA_CERT, problems);
    CertifiedKey rootCa = pair(files, ROOT_CA_KEY, ROOT_CA_CERT, problems);
    CertifiedKey rpc = pair(files, RPC_KEY, RPC_CERT, problems);
    byte[] k256 = files.get(K256_KEY);
    if (k256 != null) {
      try {
        EcKeys.requireK256Scalar(k256);
      } catch (IllegalArgumentException e) {
        problems.add(K256_KEY + ": " + e.getMessage());
      }
    }
    // A null pair or k256 has always added its problem (missing or unreadable file).
    if (!problems.isEmpty() || tmpCa == null || rootCa == null || rpc == null || k256 == null) {
      throw new KeyStoreException(
          where + " cannot be loaded: " + String.join("; ", problems) + ". " + RECOVERY);
    }
    return new RootKeys(tmpCa, rootCa, rpc, k256, domain(files, rpc.cert()));
  }

  /** Fails unless {@code given} holds the same four keys as {@code stored}. */
  static void requireSameKeys(RootKeys stored, RootKeys given, String where)
      throws KeyStoreException {
    boolean same =
        EcKeys.samePublicKey(
                stored.secretTmpCaKeyPair().getPublic(), given.secretTmpCaKeyPair().getPublic())
            && EcKeys.samePublicKey(stored.rootCaPublicKey(), given.rootCaPublicKey())
            && EcKeys.samePublicKey(
                stored.secretRpcKeyPair().getPublic(), given.secretRpcKeyPair().getPublic())
            && java.util.Arrays.equals(
                stored.k256CompressedPublicKey(), given.k256CompressedPublicKey());
    if (!same) {
      throw new KeyStoreException(
          "refusing to write certificates to "
              + where
              + ": they were made for keys other than the stored ones");
    }
  }

  static KeyStoreException refuseOverwrite(List<String> existing, String where) {
    return new KeyStoreException(
        "refusing to write a new key set to "
            + where
            + ": key files already exist ("
            + String.join(", ", existing)
            + "). Existing root keys are never overwritten; load them, or move this cert_dir"
            + " aside deliberately if you really mean to start a new KMS identity.");
  }

  /** The parsed key and certificate, or null after adding to {@code problems} why not. */
  private static @Nullable CertifiedKey pair(
      Map<String, byte[]> files, String keyName, String certName, List<String> problems) {
    byte[] key = files.get(keyName);
    byte[] cert = files.get(certName);
    KeyPair keyPair = null;
    X509Certificate certificate = null;
    if (key != null) {
      try {
        keyPair = EcKeys.parseP256Pkcs8Pem(text(key));
      } catch (IllegalArgumentException e) {
        problems.add(keyName + ": " + e.getMessage());
      }
    }
    if (cert != null) {
      try {
        certificate = Pem.parseCertificate(text(cert));
      } catch (IllegalArgumentException e) {
        problems.add(certName + ": " + e.getMessage());
      }
    }
    if (key == null || cert == null || keyPair == null || certificate == null) {
      return null; // missing (REQUIRED says so) or unreadable (said above)
    }
    if (!EcKeys.samePublicKey(keyPair.getPublic(), certificate.getPublicKey())) {
      problems.add(certName + " does not belong to " + keyName + " (different public key)");
      return null;
    }
    return CertifiedKey.fromPem(text(key), text(cert));
  }

  /** rpc-domain (trimmed); if absent or blank, the CN of rpc.crt, which dstack sets to it. */
  private static String domain(Map<String, byte[]> files, X509Certificate rpcCert) {
    byte[] stored = files.get(RPC_DOMAIN);
    if (stored != null && !text(stored).isBlank()) {
      return text(stored).strip();
    }
    RDN[] cns = CertificateIssuer.subjectOf(rpcCert).getRDNs(BCStyle.CN);
    return cns.length == 0 ? "" : ASN1String.class.cast(cns[0].getFirst().getValue()).getString();
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
