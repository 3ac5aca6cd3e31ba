package dev.cvmkms.kms.service;

import dev.cvmkms.kms.proto.BootstrapResponse;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What the public RPCs hand out, prepared once at start-up so they never touch the disk: the root
 * CA certificate, the compressed root K256 public key, the temp CA pair (its key is public by
 * design: it only signs RA-TLS client certificates) and the optional bootstrap info.
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare the array contents
public record PublicMaterial(
    String rootCaPem,
    byte[] k256CompressedPubkey,
    String tmpCaCertPem,
    String tmpCaKeyPem,
    Optional<BootstrapResponse> bootstrapInfo) {

  public PublicMaterial {
    Objects.requireNonNull(rootCaPem, "rootCaPem");
    Objects.requireNonNull(tmpCaCertPem, "tmpCaCertPem");
    Objects.requireNonNull(tmpCaKeyPem, "tmpCaKeyPem");
    Objects.requireNonNull(bootstrapInfo, "bootstrapInfo");
    if (k256CompressedPubkey.length != 33) {
      throw new IllegalArgumentException("k256 public key must be 33 bytes compressed");
    }
    k256CompressedPubkey = k256CompressedPubkey.clone();
  }

  @Override
  public byte[] k256CompressedPubkey() {
    return k256CompressedPubkey.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PublicMaterial p
        && rootCaPem.equals(p.rootCaPem)
        && Arrays.equals(k256CompressedPubkey, p.k256CompressedPubkey)
        && tmpCaCertPem.equals(p.tmpCaCertPem)
        && tmpCaKeyPem.equals(p.tmpCaKeyPem)
        && bootstrapInfo.equals(p.bootstrapInfo);
  }

  @Override
  public int hashCode() {
    return Objects.hash(rootCaPem, Arrays.hashCode(k256CompressedPubkey), tmpCaCertPem);
  }

  @Override
  public String toString() {
    return "PublicMaterial[tmpCaKey=<redacted>]";
  }
}
