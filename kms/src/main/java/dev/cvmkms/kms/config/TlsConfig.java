package dev.cvmkms.kms.config;

import java.nio.file.Path;

/**
 * {@code [rpc.tls]}: the main listener's TLS identity. The listener is always TLS (as in dstack).
 *
 * @param key PEM private key ({@code key})
 * @param certs PEM certificate chain ({@code certs})
 * @param mutual client-certificate settings ({@code [rpc.tls.mutual]})
 */
public record TlsConfig(Path key, Path certs, MutualTlsConfig mutual) {
  public TlsConfig {
    Checks.present("rpc.tls.key", key);
    Checks.present("rpc.tls.certs", certs);
    Checks.present("rpc.tls.mutual", mutual);
  }

  /** The files inside a KMS cert dir: rpc.key, rpc.crt and tmp-ca.crt as client trust anchor. */
  public static TlsConfig inCertDir(Path certDir) {
    return new TlsConfig(
        certDir.resolve("rpc.key"),
        certDir.resolve("rpc.crt"),
        new MutualTlsConfig(certDir.resolve("tmp-ca.crt"), false));
  }
}
