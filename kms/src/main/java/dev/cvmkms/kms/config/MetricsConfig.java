package dev.cvmkms.kms.config;

/**
 * {@code [core.metrics]}.
 *
 * @param enabled serves unauthenticated Prometheus metrics on {@code /metrics} of the main listener
 */
public record MetricsConfig(boolean enabled) {}
