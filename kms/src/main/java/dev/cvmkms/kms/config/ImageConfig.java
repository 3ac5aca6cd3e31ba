package dev.cvmkms.kms.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code [core.image]}: OS image verification (the caller's measurements are recomputed from the
 * image it claims to run).
 *
 * @param verify whether OS images are verified ({@code verify}); off trusts the caller's claimed
 *     image
 * @param cacheDir holds {@code images/} and {@code measurements/} ({@code cache_dir})
 * @param downloadUrl archive URL template containing {@value #HASH_PLACEHOLDER} ({@code
 *     download_url})
 * @param downloadTimeout bound on one whole download ({@code download_timeout}); also the bound on
 *     one call to the image verifier, which may download the image
 * @param verifierUrl a dstack-verifier ({@code POST <url>/verify}) that checks OS images for this
 *     KMS ({@code verifier_url}); without it {@code verify = true} refuses every caller
 * @param insecureAllowUnverifiedOsImage must be set for {@code verify = false} to be accepted
 *     ({@code insecure_allow_unverified_os_image}): without verification the {@code osImageHash}
 *     the auth policy sees is whatever the caller claims
 * @param verifierClient the image verifier client ({@code [core.image.verifier]}); by default its
 *     deadline and attempt timeout are {@code download_timeout} and it does not retry
 */
public record ImageConfig(
    boolean verify,
    Path cacheDir,
    String downloadUrl,
    Duration downloadTimeout,
    Optional<URI> verifierUrl,
    boolean insecureAllowUnverifiedOsImage,
    OutboundClientConfig verifierClient) {
  public static final String HASH_PLACEHOLDER = "{OS_IMAGE_HASH}";
  public static final String VERIFIER_TABLE = "core.image.verifier";

  /** With the default verifier client. */
  public ImageConfig(
      boolean verify,
      Path cacheDir,
      String downloadUrl,
      Duration downloadTimeout,
      Optional<URI> verifierUrl,
      boolean insecureAllowUnverifiedOsImage) {
    this(
        verify,
        cacheDir,
        downloadUrl,
        downloadTimeout,
        verifierUrl,
        insecureAllowUnverifiedOsImage,
        verifierDefaults(downloadTimeout));
  }

  private static OutboundClientConfig verifierDefaults(Duration downloadTimeout) {
    Duration d =
        downloadTimeout == null || downloadTimeout.compareTo(OutboundClientConfig.MAX_DEADLINE) > 0
            ? OutboundClientConfig.MAX_DEADLINE
            : downloadTimeout;
    Duration attempt =
        d.compareTo(OutboundClientConfig.MAX_ATTEMPT_TIMEOUT) > 0
            ? OutboundClientConfig.MAX_ATTEMPT_TIMEOUT
            : d;
    Duration connect =
        attempt.compareTo(Duration.ofSeconds(2)) < 0 ? attempt : Duration.ofSeconds(2);
    return new OutboundClientConfig(
        VERIFIER_TABLE, connect, attempt, d, 8, 64 * ByteSizes.KIB, 0, 5, Duration.ofSeconds(30));
  }

  /** The verifier client's defaults for this download timeout. */
  public OutboundClientConfig verifierClientDefaults() {
    return verifierDefaults(downloadTimeout);
  }

  public ImageConfig withVerifierClient(OutboundClientConfig client) {
    return new ImageConfig(
        verify,
        cacheDir,
        downloadUrl,
        downloadTimeout,
        verifierUrl,
        insecureAllowUnverifiedOsImage,
        client);
  }

  public static final Duration MAX_DOWNLOAD_TIMEOUT = Duration.ofHours(1);

  /** Verification on, through the given verifier (or failing closed without one). */
  public ImageConfig(
      Path cacheDir, String downloadUrl, Duration downloadTimeout, Optional<URI> verifierUrl) {
    this(true, cacheDir, downloadUrl, downloadTimeout, verifierUrl, false);
  }

  /** Verification off, explicitly accepted as insecure ({@code kms dev}). */
  public static ImageConfig insecureUnverified(
      Path cacheDir, String downloadUrl, Duration downloadTimeout) {
    return new ImageConfig(false, cacheDir, downloadUrl, downloadTimeout, Optional.empty(), true);
  }

  public ImageConfig {
    if (!verify && !insecureAllowUnverifiedOsImage) {
      throw new ConfigException(
          "core.image.verify",
          "core.image.verify = false lets callers claim any OS image; set"
              + " core.image.insecure_allow_unverified_os_image = true to accept that");
    }
    Checks.present("core.image.verifier_url", verifierUrl);
    verifierUrl.ifPresent(
        u -> {
          String scheme = u.getScheme() == null ? "" : u.getScheme();
          if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            throw new ConfigException(
                "core.image.verifier_url",
                "core.image.verifier_url must be http(s), got scheme \"" + scheme + "\"");
          }
        });
    Checks.present("core.image.cache_dir", cacheDir);
    String key = "core.image.download_url";
    Checks.notBlank(key, downloadUrl);
    if (!downloadUrl.contains(HASH_PLACEHOLDER)) {
      throw new ConfigException(key, key + " must contain " + HASH_PLACEHOLDER);
    }
    URI probe = Checks.parseUri(key, downloadUrl.replace(HASH_PLACEHOLDER, "00"));
    String scheme = probe.getScheme() == null ? "" : probe.getScheme();
    if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
      throw new ConfigException(key, key + " must be http(s), got scheme \"" + scheme + "\"");
    }
    Checks.positive("core.image.download_timeout", downloadTimeout, MAX_DOWNLOAD_TIMEOUT);
    java.util.Objects.requireNonNull(verifierClient, "verifierClient");
  }

  /** The archive URL for one image, hash in lowercase hex. */
  public String downloadUrlFor(String osImageHashHex) {
    return downloadUrl.replace(HASH_PLACEHOLDER, osImageHashHex);
  }
}
