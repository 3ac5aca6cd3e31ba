package dev.cvmkms.autheth.config;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything {@code auth-eth serve} reads, validated once at start-up. Upstream's variables ({@code
 * ETH_RPC_URL}, {@code KMS_CONTRACT_ADDR}, {@code HOST}, {@code PORT}) keep their meaning and
 * defaults; the rest are ours and all optional.
 *
 * @param kmsContractAddr exactly as given (upstream echoes it unnormalised on {@code GET /})
 * @param kmsContractCallAddr the lower-case form used in {@code eth_call}
 * @param shutdown the phased-shutdown budgets ({@code SHUTDOWN_*_MS})
 */
public record AuthEthConfig(
    String host,
    int port,
    String kmsContractAddr,
    String kmsContractCallAddr,
    RpcEndpoint rpc,
    RpcSettings rpcSettings,
    OptionalLong expectedChainId,
    Finality finality,
    Duration metadataRefresh,
    Duration metadataRetry,
    int httpInstances,
    int maxBodyBytes,
    HttpLimits httpLimits,
    ShutdownBudgets shutdown) {

  /** Without listener limits beyond the defaults (tests). */
  public AuthEthConfig(
      String host,
      int port,
      String kmsContractAddr,
      String kmsContractCallAddr,
      RpcEndpoint rpc,
      RpcSettings rpcSettings,
      OptionalLong expectedChainId,
      Finality finality,
      Duration metadataRefresh,
      Duration metadataRetry,
      int httpInstances,
      int maxBodyBytes) {
    this(
        host,
        port,
        kmsContractAddr,
        kmsContractCallAddr,
        rpc,
        rpcSettings,
        expectedChainId,
        finality,
        metadataRefresh,
        metadataRetry,
        httpInstances,
        maxBodyBytes,
        HttpLimits.defaults(),
        ShutdownBudgets.fromEnv(java.util.Map.of()));
  }

  public static AuthEthConfig fromEnv(Map<String, String> env) {
    Env e = new Env(env);
    String kms = e.string("KMS_CONTRACT_ADDR", "0x0000000000000000000000000000000000000000");
    String kmsCall =
        Addresses.parse(kms)
            .orElseThrow(
                () ->
                    new ConfigException(
                        "KMS_CONTRACT_ADDR must be a 20-byte hex address with a valid checksum"));
    RpcEndpoint rpc =
        new RpcEndpoint(
            e.string("ETH_RPC_URL", "http://localhost:8545"),
            Optional.ofNullable(env.get("ETH_RPC_API_KEY")),
            e.string("ETH_RPC_API_KEY_HEADER", "X-Api-Key"));
    RpcSettings d = RpcSettings.defaults();
    RpcSettings rs =
        new RpcSettings(
            e.millis("ETH_RPC_CONNECT_TIMEOUT_MS", d.connectTimeout(), 1, 60_000),
            e.millis("ETH_RPC_ATTEMPT_TIMEOUT_MS", d.attemptTimeout(), 1, 120_000),
            e.millis("ETH_RPC_DEADLINE_MS", d.deadline(), 1, 300_000),
            e.integer("ETH_RPC_MAX_RETRIES", d.maxRetries(), 0, 10),
            e.millis("ETH_RPC_BACKOFF_BASE_MS", d.backoffBase(), 1, 60_000),
            e.millis("ETH_RPC_BACKOFF_MAX_MS", d.backoffMax(), 1, 300_000),
            e.millis("ETH_RPC_MAX_RETRY_AFTER_MS", d.maxRetryAfter(), 0, 3_600_000),
            e.integer("ETH_RPC_POOL_SIZE", d.poolSize(), 1, 1024),
            e.integer("ETH_RPC_POOL_QUEUE", d.poolQueue(), 0, 100_000),
            e.decimal("ETH_RPC_RATE_PER_SEC", d.ratePerSecond(), 0.001, 100_000),
            e.integer("ETH_RPC_BURST", d.burst(), 1, 100_000),
            e.integer("ETH_RPC_BREAKER_FAILURES", d.breakerFailures(), 1, 1000),
            e.millis("ETH_RPC_BREAKER_RESET_MS", d.breakerReset(), 1, 3_600_000),
            e.integer("ETH_RPC_MAX_RESPONSE_BYTES", d.maxResponseBytes(), 1024, 64 << 20));
    if (rs.backoffMax().compareTo(rs.backoffBase()) < 0) {
      throw new ConfigException("ETH_RPC_BACKOFF_MAX_MS must be >= ETH_RPC_BACKOFF_BASE_MS");
    }
    OptionalLong chainId = OptionalLong.empty();
    if (e.present("ETH_CHAIN_ID")) {
      chainId = OptionalLong.of(e.integer("ETH_CHAIN_ID", 0, 1, Integer.MAX_VALUE));
    }
    Finality finality =
        e.present("ETH_FINALITY") ? Finality.parse(e.raw("ETH_FINALITY")) : Finality.LATEST;
    Duration refresh = e.millis("METADATA_REFRESH_MS", Duration.ofSeconds(60), 100, 86_400_000);
    Duration retry = e.millis("METADATA_RETRY_MS", Duration.ofSeconds(5), 10, 86_400_000);
    return new AuthEthConfig(
        e.string("HOST", "127.0.0.1"),
        e.integer("PORT", 8000, 0, 65535),
        kms,
        kmsCall,
        rpc,
        rs,
        chainId,
        finality,
        refresh,
        retry,
        e.integer("HTTP_INSTANCES", Runtime.getRuntime().availableProcessors(), 1, 64),
        e.integer("HTTP_MAX_BODY_BYTES", 1 << 20, 1024, 64 << 20),
        httpLimits(e),
        ShutdownBudgets.fromEnv(env));
  }

  private static HttpLimits httpLimits(Env e) {
    HttpLimits d = HttpLimits.defaults();
    return new HttpLimits(
        e.millis("HTTP_HEADER_TIMEOUT_MS", d.headerTimeout(), 10, 3_600_000),
        e.millis("HTTP_BODY_TIMEOUT_MS", d.bodyTimeout(), 10, 3_600_000),
        e.millis("HTTP_IDLE_TIMEOUT_MS", d.idleTimeout(), 1000, 3_600_000),
        e.integer("HTTP_MAX_HEADER_BYTES", d.maxHeaderBytes(), 1024, 1 << 20),
        e.integer("HTTP_MAX_HEADERS", d.maxHeaders(), 8, 10_000),
        e.integer("HTTP_MAX_URL_BYTES", d.maxUrlBytes(), 256, 64 << 10),
        e.integer("HTTP_MAX_CONNECTIONS", d.maxConnections(), 1, 1_000_000),
        e.integer("HTTP_MAX_CONNECTIONS_PER_ADDRESS", d.maxConnectionsPerAddress(), 1, 1_000_000),
        e.integer("HTTP_NO_BODY_LIMIT_BYTES", d.noBodyLimit(), 0, 64 << 10),
        e.integer("RATE_LIMIT_PER_SEC", d.ratePerSecond(), 0, 1_000_000),
        e.integer("RATE_LIMIT_BURST", d.burst(), 1, 1_000_000));
  }

  /** Typed, range-checked reads whose errors name the key. */
  private record Env(Map<String, String> env) {
    /** The value of a key {@link #present} says is there. */
    String raw(String key) {
      String v = env.get(key);
      if (v == null) {
        throw new IllegalStateException(key + " is not set");
      }
      return v;
    }

    boolean present(String key) {
      String v = env.get(key);
      return v != null && !v.isBlank();
    }

    String string(String key, String def) {
      return present(key) ? raw(key).trim() : def;
    }

    int integer(String key, int def, int min, int max) {
      if (!present(key)) {
        return def;
      }
      try {
        int v = Integer.parseInt(raw(key).trim());
        if (v < min || v > max) {
          throw new ConfigException(key + " must be between " + min + " and " + max);
        }
        return v;
      } catch (NumberFormatException ex) {
        throw new ConfigException(key + " must be an integer");
      }
    }

    double decimal(String key, double def, double min, double max) {
      if (!present(key)) {
        return def;
      }
      try {
        double v = Double.parseDouble(raw(key).trim());
        if (!(v >= min && v <= max)) {
          throw new ConfigException(key + " must be between " + min + " and " + max);
        }
        return v;
      } catch (NumberFormatException ex) {
        throw new ConfigException(key + " must be a number");
      }
    }

    Duration millis(String key, Duration def, int min, int max) {
      return present(key) ? Duration.ofMillis(integer(key, 0, min, max)) : def;
    }
  }
}
