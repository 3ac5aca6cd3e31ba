package dev.cvmkms.kms.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A loaded configuration with what {@code kms serve --check-config} reports about it.
 *
 * @param config the validated configuration
 * @param effective every key's effective value as display text, in reading order; secrets are
 *     redacted ({@code <redacted>}), absent optional keys read {@code unset}
 * @param upstreamKeys the upstream-only keys present in the file ({@link UpstreamKeys}), in file
 *     order, each once
 */
public record ConfigCheck(
    KmsConfig config, Map<String, String> effective, List<UpstreamKeys.Entry> upstreamKeys) {
  public ConfigCheck {
    effective = Collections.unmodifiableMap(new LinkedHashMap<>(effective));
    upstreamKeys = List.copyOf(upstreamKeys);
  }

  static ConfigCheck of(KmsConfig config, LoadRecord record) {
    return new ConfigCheck(
        config,
        record.effective,
        record.upstream.stream().map(k -> UpstreamKeys.lookup(k).orElseThrow()).toList());
  }

  /**
   * Settings that load but will refuse callers until the environment provides something; not
   * errors, since the operator may be about to provide it.
   */
  public List<String> warnings() {
    List<String> out = new ArrayList<>();
    if (config.image().verify() && config.image().verifierUrl().isEmpty()) {
      out.add(
          "core.image.verify = true without core.image.verifier_url: GetAppKey, GetKmsKey and"
              + " SignCert fail closed until a dstack-verifier URL is configured (dstack verified"
              + " images in-process; this KMS delegates to a verifier)");
    }
    // Remove once KmsRuntime serves [core.admin]: until then its settings are validated only.
    if (config.admin().enabled() || config.admin().authTokenHash().isPresent()) {
      out.add(
          "[core.admin] (and core.admin_token_hash) are validated but this build serves no admin"
              + " listener yet: ClearImageCache is not available (dstack v0.5.1 … v0.5.11 served"
              + " it on the main listener)");
    }
    return List.copyOf(out);
  }
}
