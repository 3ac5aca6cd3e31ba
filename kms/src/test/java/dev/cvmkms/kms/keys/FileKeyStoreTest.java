package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.encoding.Pem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileKeyStoreTest extends KeyStoreContractTest {
  @TempDir Path dir;

  @Override
  protected KeyStore newStore() {
    return new FileKeyStore(dir.resolve("certs"));
  }

  private Path certDir() {
    return dir.resolve("certs");
  }

  @Test
  void save_writesDstackFormatsAndModes() throws Exception {
    RootKeys keys = TestKeys.unattested();
    store.save(keys);

    assertThat(Files.readAllBytes(certDir().resolve("root-k256.key")))
        .hasSize(32)
        .isEqualTo(keys.secretK256Scalar());
    assertThat(Files.readString(certDir().resolve("rpc-domain"))).isEqualTo(TestKeys.DOMAIN);
    for (String key : List.of("root-ca.key", "tmp-ca.key", "rpc.key")) {
      assertThat(Files.readString(certDir().resolve(key)))
          .startsWith("-----BEGIN PRIVATE KEY-----\n")
          .endsWith("-----END PRIVATE KEY-----\n");
    }
    for (String cert : List.of("root-ca.crt", "tmp-ca.crt", "rpc.crt")) {
      assertThat(Files.readString(certDir().resolve(cert)))
          .startsWith("-----BEGIN CERTIFICATE-----\n");
    }
    for (String key : List.of("root-ca.key", "tmp-ca.key", "rpc.key", "root-k256.key")) {
      assertThat(mode(key)).as(key).isEqualTo("rw-------");
    }
    for (String pub : List.of("root-ca.crt", "tmp-ca.crt", "rpc.crt", "rpc-domain")) {
      assertThat(mode(pub)).as(pub).isEqualTo("rw-r--r--");
    }
  }

  @Test
  void writes_leaveNoTemporaryFiles() throws Exception {
    RootKeys keys = TestKeys.unattested();
    store.save(keys, Optional.of(KeyBootstrap.attestKeys(keys, new FakeAttester())));
    new CertRenewal(TestKeys.clockAt(TestKeys.NOW))
        .renewOnStart(store, Optional.empty(), Optional.empty());

    try (Stream<Path> files = Files.list(certDir())) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder(
              "tmp-ca.key",
              "root-ca.key",
              "rpc.key",
              "root-k256.key",
              "tmp-ca.crt",
              "root-ca.crt",
              "rpc.crt",
              "rpc-domain",
              "bootstrap-info.json");
    }
  }

  @Test
  void save_refusesWhenASingleKeyFileExists_andWritesNothing() throws Exception {
    Files.createDirectories(certDir());
    byte[] precious = new byte[32];
    Arrays.fill(precious, (byte) 7);
    Files.write(certDir().resolve("root-k256.key"), precious);

    assertThatThrownBy(() -> store.save(TestKeys.unattested()))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("root-k256.key")
        .hasMessageContaining("never overwritten");
    assertThat(Files.readAllBytes(certDir().resolve("root-k256.key"))).isEqualTo(precious);
    try (Stream<Path> files = Files.list(certDir())) {
      assertThat(files).hasSize(1);
    }
  }

  @Test
  void state_partialSet_namesMissingFilesAndRecovery() throws Exception {
    store.save(TestKeys.unattested());
    Files.delete(certDir().resolve("rpc.key"));
    Files.delete(certDir().resolve("tmp-ca.crt"));

    assertThatThrownBy(store::state)
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("missing rpc.key, tmp-ca.crt")
        .hasMessageContaining("backup")
        .hasMessageContaining("Never delete");
    assertThatThrownBy(store::load).hasMessageContaining("rpc.key");
  }

  @Test
  void state_onlyCertificatesWithoutKeys_isEmpty() throws Exception {
    store.save(TestKeys.unattested());
    for (String key : List.of("tmp-ca.key", "root-ca.key", "rpc.key", "root-k256.key")) {
      Files.delete(certDir().resolve(key));
    }
    assertThat(store.state()).isEqualTo(KeyStore.State.EMPTY);
  }

  @Test
  void load_truncatedKeyPem_namesTheFile() throws Exception {
    store.save(TestKeys.unattested());
    Path rootKey = certDir().resolve("root-ca.key");
    String pem = Files.readString(rootKey);
    Files.writeString(rootKey, pem.substring(0, pem.length() / 2));

    assertThatThrownBy(store::load)
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("root-ca.key: truncated PEM")
        .hasMessageContaining("Restore these files from a backup");
  }

  @Test
  void load_truncatedCertificate_namesTheFile() throws Exception {
    store.save(TestKeys.unattested());
    Path cert = certDir().resolve("rpc.crt");
    String pem = Files.readString(cert);
    // Drop body lines but keep the footer: a short, unparseable DER.
    Files.writeString(
        cert, pem.substring(0, 100) + "\n-----END CERTIFICATE-----\n", StandardCharsets.US_ASCII);

    assertThatThrownBy(store::load)
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("rpc.crt: not a valid X.509 certificate");
  }

  @Test
  void load_k256OfWrongLength_namesTheFile() throws Exception {
    store.save(TestKeys.unattested());
    Files.write(certDir().resolve("root-k256.key"), new byte[33]);

    assertThatThrownBy(store::load)
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining(
            "root-k256.key: secp256k1 key must be exactly 32 raw bytes, found 33");
  }

  @Test
  void load_hexEncodedK256_isRefused() throws Exception {
    RootKeys keys = TestKeys.unattested();
    store.save(keys);
    Files.writeString(
        certDir().resolve("root-k256.key"), HexFormat.of().formatHex(keys.secretK256Scalar()));

    assertThatThrownBy(store::load)
        .hasMessageContaining("root-k256.key")
        .hasMessageContaining("64");
  }

  @Test
  void load_mismatchedCertificate_isRefused() throws Exception {
    store.save(TestKeys.unattested());
    Files.copy(
        certDir().resolve("root-ca.crt"),
        certDir().resolve("tmp-ca.crt"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    assertThatThrownBy(store::load)
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("tmp-ca.crt does not belong to tmp-ca.key");
  }

  @Test
  void load_messagesNeverContainKeyMaterial() throws Exception {
    RootKeys keys = TestKeys.unattested();
    store.save(keys);
    Files.write(certDir().resolve("root-k256.key"), new byte[31]);
    String pemBody = keys.secretRootCaKeyPem().lines().toList().get(1);

    assertThatThrownBy(store::load)
        .satisfies(
            e -> {
              assertThat(e.getMessage()).doesNotContain(pemBody);
              assertThat(e.getMessage())
                  .doesNotContain(HexFormat.of().formatHex(keys.secretK256Scalar()));
            });
  }

  @Test
  void load_foreignCertDirMadeWithOpenssl_andUpstreamRootKey() throws Exception {
    Files.createDirectories(certDir());
    for (String name :
        List.of(
            "tmp-ca.key",
            "root-ca.key",
            "rpc.key",
            "root-k256.key",
            "tmp-ca.crt",
            "root-ca.crt",
            "rpc.crt",
            "rpc-domain")) {
      try (InputStream in = resource("keys/foreign-cert-dir/" + name)) {
        Files.copy(in, certDir().resolve(name));
      }
    }

    RootKeys keys = store.load();

    assertThat(HexFormat.of().formatHex(keys.rootCaSpkiDer()))
        .isEqualTo(EcKeysTest.UPSTREAM_ROOT_SPKI);
    assertThat(HexFormat.of().formatHex(keys.k256CompressedPublicKey()))
        .isEqualTo("0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c");
    assertThat(keys.rpcDomain()).isEqualTo("kms.example.com");
    assertThat(keys.tmpCaCertPem()).isEqualTo(Files.readString(certDir().resolve("tmp-ca.crt")));
    assertThat(keys.secretTmpCaKeyPem())
        .isEqualTo(Files.readString(certDir().resolve("tmp-ca.key")));
    assertThat(keys.rootCaCertPem()).isEqualTo(Files.readString(certDir().resolve("root-ca.crt")));

    // A start over this state re-issues rpc.crt with our profile; it chains to the foreign root.
    RootKeys served =
        new CertRenewal(TestKeys.clockAt(TestKeys.NOW))
            .renewOnStart(store, Optional.empty(), Optional.empty());
    assertThat(served.rootCaCertPem()).isEqualTo(keys.rootCaCertPem());
    CertificateIssuerTest.assertChainVerifies(served.rpcCertificate(), keys.rootCaCertificate());
  }

  @Test
  void load_keysFromAnotherTool_openSslCliOrJdkEncoder() throws Exception {
    KeyPair tmpCa = foreignKey("tmp-ca.key");
    KeyPair rootCa = foreignKey("root-ca.key");
    KeyPair rpc = foreignKey("rpc.key");
    RootKeys issued =
        new KeyBootstrap(TestKeys.clockAt(TestKeys.NOW))
            .fromKeys(
                tmpCa,
                rootCa,
                rpc,
                EcKeys.generateK256Scalar(new java.security.SecureRandom()),
                "kms.example.com",
                Optional.empty());
    Files.createDirectories(certDir());
    Files.writeString(certDir().resolve("tmp-ca.crt"), issued.tmpCaCertPem());
    Files.writeString(certDir().resolve("root-ca.crt"), issued.rootCaCertPem());
    Files.writeString(certDir().resolve("rpc.crt"), issued.rpcCertPem());
    Files.write(certDir().resolve("root-k256.key"), issued.secretK256Scalar());

    RootKeys loaded = store.load();
    assertThat(loaded.rootCaSpkiDer()).isEqualTo(rootCa.getPublic().getEncoded());
    assertThat(loaded.secretRootCaKeyPem())
        .isEqualTo(Files.readString(certDir().resolve("root-ca.key")));
    assertThat(loaded.rpcDomain())
        .as("CN of rpc.crt when rpc-domain is absent")
        .isEqualTo("kms.example.com");
  }

  /** A P-256 key written to cert_dir by `openssl genpkey` if available, else by the JDK. */
  private KeyPair foreignKey(String fileName) throws Exception {
    Files.createDirectories(certDir());
    Path file = certDir().resolve(fileName);
    if (!opensslGenpkey(file)) {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"));
      Files.writeString(
          file, Pem.encode("PRIVATE KEY", gen.generateKeyPair().getPrivate().getEncoded()));
    }
    return EcKeys.parseP256Pkcs8Pem(Files.readString(file));
  }

  private static boolean opensslGenpkey(Path out) throws InterruptedException {
    try {
      Process p =
          new ProcessBuilder(
                  "openssl",
                  "genpkey",
                  "-algorithm",
                  "EC",
                  "-pkeyopt",
                  "ec_paramgen_curve:P-256",
                  "-out",
                  out.toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0 && Files.size(out) > 0;
    } catch (IOException e) {
      return false; // openssl not installed
    }
  }

  private String mode(String name) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(certDir().resolve(name)));
  }

  private static InputStream resource(String name) {
    InputStream in = FileKeyStoreTest.class.getClassLoader().getResourceAsStream(name);
    assertThat(in).as(name).isNotNull();
    return in;
  }
}
