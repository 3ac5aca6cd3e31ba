package dev.cvmkms.kms.keys.derivation;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HexFormat;
import java.util.Properties;

/**
 * The spec's golden vectors (test resource {@code keys/vectors/kms-protocol-vectors.properties}).
 */
final class Vectors {
  private static final Properties VALUES = load();

  private Vectors() {}

  static byte[] hex(String name) {
    return HexFormat.of().parseHex(string(name));
  }

  static String string(String name) {
    String value = VALUES.getProperty(name);
    if (value == null) {
      throw new IllegalArgumentException("no vector named " + name);
    }
    return value.trim();
  }

  /** The upstream test root CA key, parsed by the JDK from its PKCS#8 DER. */
  static ECPrivateKey rootCa() {
    try {
      return (ECPrivateKey)
          KeyFactory.getInstance("EC")
              .generatePrivate(new PKCS8EncodedKeySpec(hex("root_ca_pkcs8")));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Properties load() {
    try (InputStream in =
        Vectors.class.getResourceAsStream("/keys/vectors/kms-protocol-vectors.properties")) {
      if (in == null) {
        throw new IllegalStateException("vector file missing from the test classpath");
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
