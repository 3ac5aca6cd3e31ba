package dev.cvmkms.kms.config;

import java.time.Duration;

/**
 * {@code [rpc]}: the main (KMS service) listener.
 *
 * @param address bind address ({@code address})
 * @param port bind port, 0 for an ephemeral port ({@code port})
 * @param tls TLS identity and client-certificate settings ({@code [rpc.tls]})
 * @param bodyLimits request body limits per method ({@code [rpc.body_limits]}, ours)
 * @param shutdownGrace how long in-flight requests may finish on shutdown ({@code shutdown_grace},
 *     ours; 0 closes at once)
 */
public record RpcConfig(
    String address, int port, TlsConfig tls, BodyLimits bodyLimits, Duration shutdownGrace) {
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);
  public static final Duration MAX_SHUTDOWN_GRACE = Duration.ofMinutes(5);

  public RpcConfig {
    Checks.notBlank("rpc.address", address);
    Checks.port("rpc.port", port);
    Checks.present("rpc.tls", tls);
    Checks.present("rpc.body_limits", bodyLimits);
    Checks.range("rpc.shutdown_grace", shutdownGrace, Duration.ZERO, MAX_SHUTDOWN_GRACE);
  }
}
