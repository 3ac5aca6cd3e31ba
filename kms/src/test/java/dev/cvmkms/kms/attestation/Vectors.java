package dev.cvmkms.kms.attestation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** Loads the copied TDX vectors from the test classpath (see resources/attestation/README.md). */
public final class Vectors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Vectors() {}

  public static byte[] bytes(String path) {
    try (InputStream in = Vectors.class.getResourceAsStream("/attestation/" + path)) {
      if (in == null) {
        throw new IllegalArgumentException("no vector " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String text(String path) {
    return new String(bytes(path), StandardCharsets.UTF_8);
  }

  public static JsonNode json(String path) {
    try {
      return JSON.readTree(bytes(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode expected() {
    return json("expected.json");
  }

  public static Collateral collateral(String path) {
    return Collateral.fromJson(text(path));
  }

  /** The quote embedded (as hex) in a dstack verifier fixture. */
  public static byte[] fixtureQuote(String path) {
    return Bytes.unhex(json(path).get("quote").asText(), "quote");
  }

  /** The middle of an offline verification window from expected.json. */
  public static Instant windowMiddle(int index) {
    JsonNode w =
        expected().get("offline_full_verification").get(index).get("valid_time_window_unix");
    return Instant.ofEpochSecond((w.get(0).asLong() + w.get(1).asLong()) / 2);
  }

  public static Instant windowStart(int index) {
    return Instant.ofEpochSecond(
        expected()
            .get("offline_full_verification")
            .get(index)
            .get("valid_time_window_unix")
            .get(0)
            .asLong());
  }

  public static Instant windowEnd(int index) {
    return Instant.ofEpochSecond(
        expected()
            .get("offline_full_verification")
            .get(index)
            .get("valid_time_window_unix")
            .get(1)
            .asLong());
  }
}
