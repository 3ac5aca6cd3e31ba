package dev.cvmkms.kms.config;

import java.nio.file.Path;

/**
 * {@code [rpc.tls.mutual]}: client certificates. They are optional by default because GetMeta,
 * GetTempCaCert and SignCert are called without one; RPCs that need the caller's attestation check
 * for the certificate themselves.
 *
 * @param caCerts trust anchor for client certificates ({@code ca_certs}, the KMS's tmp-ca.crt)
 * @param mandatory whether the TLS handshake requires a client certificate
 */
public record MutualTlsConfig(Path caCerts, boolean mandatory) {
  public MutualTlsConfig {
    Checks.present("rpc.tls.mutual.ca_certs", caCerts);
  }
}
