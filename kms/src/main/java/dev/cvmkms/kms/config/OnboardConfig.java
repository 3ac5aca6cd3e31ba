package dev.cvmkms.kms.config;

/**
 * {@code [core.onboard]}: the onboarding listener that runs instead of the main one while the cert
 * dir lacks keys.
 *
 * @param enabled run onboarding when keys are missing ({@code enabled})
 * @param autoBootstrapDomain non-empty: bootstrap headless with this domain, which then overrides
 *     {@code rpc-domain} on every start ({@code auto_bootstrap_domain})
 * @param address bind address ({@code address})
 * @param port bind port, 0 for ephemeral ({@code port})
 */
public record OnboardConfig(boolean enabled, String autoBootstrapDomain, String address, int port) {
  public OnboardConfig {
    Checks.present("core.onboard.auto_bootstrap_domain", autoBootstrapDomain);
    Checks.notBlank("core.onboard.address", address);
    Checks.port("core.onboard.port", port);
  }
}
