package dev.cvmkms.kms.config;

/**
 * {@code [rpc]}: the main (KMS service) listener.
 *
 * @param address bind address ({@code address})
 * @param port bind port, 0 for an ephemeral port ({@code port})
 * @param tls TLS identity and client-certificate settings ({@code [rpc.tls]})
 * @param bodyLimits request body limits per method ({@code [rpc.body_limits]}, ours)
 *     <p>The former {@code rpc.shutdown_grace} is now {@code shutdown.http_drain} ({@link
 *     ShutdownConfig}); the loader still accepts it as a deprecated alias.
 */
public record RpcConfig(String address, int port, TlsConfig tls, BodyLimits bodyLimits) {
  public RpcConfig {
    Checks.notBlank("rpc.address", address);
    Checks.port("rpc.port", port);
    Checks.present("rpc.tls", tls);
    Checks.present("rpc.body_limits", bodyLimits);
  }
}
