package dev.cvmkms.autheth.chain;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** Per-dependency metrics of the RPC client. Tags carry method and outcome, never the URL. */
public final class RpcMetrics {
  private final MeterRegistry registry;

  public RpcMetrics(MeterRegistry registry, CircuitBreaker breaker) {
    this.registry = registry;
    Gauge.builder("autheth_rpc_breaker_state", breaker, b -> stateCode(b.getState()))
        .description("RPC circuit breaker: 0 closed, 1 open, 2 half-open")
        .register(registry);
  }

  /**
   * This gauge's encoding, unchanged since it was first exported: 0 closed, 1 open, 2 half-open.
   */
  static int stateCode(CircuitBreaker.State s) {
    return switch (Breakers.gauge(s)) {
      case 0 -> 0;
      case 1 -> 2;
      default -> 1;
    };
  }

  /** One upstream HTTP exchange was made and ended with {@code outcome} ("ok" or a kind label). */
  public void attempt(String method, String outcome, long nanos) {
    Counter.builder("autheth_rpc_calls_total")
        .description("JSON-RPC calls sent to the provider, by method and outcome")
        .tags("method", method, "outcome", outcome)
        .register(registry)
        .increment();
    Timer.builder("autheth_rpc_call_seconds")
        .tags("method", method)
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
    if (RpcException.Kind.THROTTLED.label().equals(outcome)) {
      registry.counter("autheth_rpc_throttled_total").increment();
    }
  }

  /**
   * A call was refused locally (breaker open, token bucket, deadline) without reaching upstream.
   */
  public void rejected(String method, String reason) {
    Counter.builder("autheth_rpc_rejected_total")
        .description("JSON-RPC calls not sent: breaker open, outbound rate limit or deadline")
        .tags("method", method, "reason", reason)
        .register(registry)
        .increment();
  }
}
