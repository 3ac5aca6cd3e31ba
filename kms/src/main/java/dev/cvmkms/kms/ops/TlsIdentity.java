package dev.cvmkms.kms.ops;

import java.util.Objects;

/**
 * What the HTTPS listener presents and trusts: the RPC key and leaf certificate (PEM), and the temp
 * CA that RA-TLS client certificates must chain to. {@code toString} never prints the key.
 */
public record TlsIdentity(String keyPem, String certPem, String clientCaPem) {
  public TlsIdentity {
    Objects.requireNonNull(keyPem, "keyPem");
    Objects.requireNonNull(certPem, "certPem");
    Objects.requireNonNull(clientCaPem, "clientCaPem");
  }

  @Override
  public String toString() {
    return "TlsIdentity[key=<redacted>]";
  }
}
