package dev.cvmkms.kms.keys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * {@code bootstrap-info.json}: the public keys made by Bootstrap and the attestation over them
 * (spec §8.4), in the pRPC JSON form of {@code BootstrapResponse} (lowercase hex bytes).
 *
 * @param caPubkey root CA SubjectPublicKeyInfo DER
 * @param k256Pubkey compressed secp256k1 public key (33 bytes)
 * @param attestation raw VersionedAttestation bytes over {@link ReportData#forBootstrap}
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare the array contents
public record BootstrapInfo(byte[] caPubkey, byte[] k256Pubkey, byte[] attestation) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  public BootstrapInfo {
    caPubkey = caPubkey.clone();
    k256Pubkey = k256Pubkey.clone();
    attestation = attestation.clone();
  }

  @Override
  public byte[] caPubkey() {
    return caPubkey.clone();
  }

  @Override
  public byte[] k256Pubkey() {
    return k256Pubkey.clone();
  }

  @Override
  public byte[] attestation() {
    return attestation.clone();
  }

  /** {@code {"ca_pubkey":"<hex>","k256_pubkey":"<hex>","attestation":"<hex>"}}. */
  public String toJson() {
    return "{\"ca_pubkey\":\""
        + HEX.formatHex(caPubkey)
        + "\",\"k256_pubkey\":\""
        + HEX.formatHex(k256Pubkey)
        + "\",\"attestation\":\""
        + HEX.formatHex(attestation)
        + "\"}";
  }

  /**
   * Parses the file's bytes the way pRPC JSON does (missing or null fields are empty, unknown
   * fields ignored, {@code 0x} accepted). Anything unreadable gives empty: GetMeta then reports no
   * bootstrap info rather than failing.
   */
  public static Optional<BootstrapInfo> fromJson(byte[] json) {
    try {
      JsonNode root = JSON.readTree(new String(json, StandardCharsets.UTF_8));
      if (root == null || !root.isObject()) {
        return Optional.empty();
      }
      return Optional.of(
          new BootstrapInfo(
              hexField(root, "ca_pubkey"),
              hexField(root, "k256_pubkey"),
              hexField(root, "attestation")));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  private static byte[] hexField(JsonNode root, String name) {
    JsonNode node = root.get(name);
    if (node == null || node.isNull()) {
      return new byte[0];
    }
    if (!node.isTextual()) {
      throw new IllegalArgumentException(name + " is not a string");
    }
    String text = node.asText();
    if (text.startsWith("0x") || text.startsWith("0X")) {
      text = text.substring(2);
    }
    return HEX.parseHex(text.toLowerCase(java.util.Locale.ROOT));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BootstrapInfo b
        && Arrays.equals(caPubkey, b.caPubkey)
        && Arrays.equals(k256Pubkey, b.k256Pubkey)
        && Arrays.equals(attestation, b.attestation);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(caPubkey) + Arrays.hashCode(k256Pubkey))
        + Arrays.hashCode(attestation);
  }

  @Override
  public String toString() {
    return "BootstrapInfo[caPubkey="
        + HEX.formatHex(caPubkey)
        + ", k256Pubkey="
        + HEX.formatHex(k256Pubkey)
        + ", attestation="
        + attestation.length
        + " bytes]";
  }
}
