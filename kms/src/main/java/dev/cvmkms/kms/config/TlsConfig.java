package dev.cvmkms.kms.config;

import java.nio.file.Path;

/**
 * {@code [rpc.tls]}: the main listener's TLS identity. The listener is always TLS (as in dstack).
 *
 * @param key PEM private key ({@code key})
 * @param certs PEM certificate chain ({@code certs})
 * @param mutual client-certificate settings ({@code [rpc.tls.mutual]})
 * @param engine the TLS implementation ({@code engine}, ours; {@link TlsEngine})
 */
public record TlsConfig(Path key, Path certs, MutualTlsConfig mutual, TlsEngine engine) {
  public TlsConfig {
    Checks.present("rpc.tls.key", key);
    Checks.present("rpc.tls.certs", certs);
    Checks.present("rpc.tls.mutual", mutual);
    Checks.present("rpc.tls.engine", engine);
  }

  public TlsConfig(Path key, Path certs, MutualTlsConfig mutual) {
    this(key, certs, mutual, TlsEngine.AUTO);
  }

  /** The files inside a KMS cert dir: rpc.key, rpc.crt and tmp-ca.crt as client trust anchor. */
  public static TlsConfig inCertDir(Path certDir) {
    return new TlsConfig(
        certDir.resolve("rpc.key"),
        certDir.resolve("rpc.crt"),
        new MutualTlsConfig(certDir.resolve("tmp-ca.crt"), false));
  }
}
