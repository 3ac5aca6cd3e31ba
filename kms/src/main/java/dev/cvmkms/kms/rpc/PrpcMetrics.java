package dev.cvmkms.kms.rpc;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Per-request meters of one {@link PrpcRoutes}. All meters are registered up front, so the scrape
 * shows zeros before the first call and the label set stays bounded (method names outside the table
 * are counted as {@value #UNKNOWN}).
 *
 * <p>In Prometheus text: {@code kms_rpc_requests_total{method,outcome}}, {@code
 * kms_rpc_request_duration_seconds{method}} (histogram), {@code kms_rpc_rate_limited_total{method}}
 * (429s of the per-client limiter; never labelled by client), and dstack's two counters {@code
 * dstack_kms_attestation_requests_total} / {@code dstack_kms_attestation_failures_total} for
 * GetAppKey, GetKmsKey and SignCert (every response; failures = status >= 400).
 */
final class PrpcMetrics {
  static final String UNKNOWN = "unknown";
  static final Set<String> ATTESTATION_METHODS = Set.of("GetAppKey", "GetKmsKey", "SignCert");

  /** dstack's two counters, shared by the attestation methods. */
  private record AttestationCounters(Counter requests, Counter failures) {}

  /** {@code attestation} is null for a method that dstack's counters do not count. */
  private record MethodMeters(
      Counter ok,
      Counter error,
      Counter rateLimited,
      Timer duration,
      @Nullable AttestationCounters attestation) {}

  private final Map<String, MethodMeters> meters = new HashMap<>();
  private final MethodMeters unknown;

  PrpcMetrics(MeterRegistry registry, Collection<String> methodNames) {
    AttestationCounters attestation =
        methodNames.stream().anyMatch(ATTESTATION_METHODS::contains)
            ? registerAttestation(registry)
            : null;
    for (String name : methodNames) {
      meters.put(
          name, register(registry, name, ATTESTATION_METHODS.contains(name) ? attestation : null));
    }
    unknown = register(registry, UNKNOWN, null);
    meters.put(UNKNOWN, unknown);
  }

  private static AttestationCounters registerAttestation(MeterRegistry registry) {
    // Named as dstack names them; Micrometer adds the _total suffix for counters.
    return new AttestationCounters(
        Counter.builder("dstack_kms_attestation_requests")
            .description("Number of attestation requests (GetAppKey, GetKmsKey, SignCert)")
            .register(registry),
        Counter.builder("dstack_kms_attestation_failures")
            .description("Number of failed attestation requests (status >= 400)")
            .register(registry));
  }

  private static MethodMeters register(
      MeterRegistry registry, String method, @Nullable AttestationCounters attestation) {
    return new MethodMeters(
        requests(registry, method, "ok"),
        requests(registry, method, "error"),
        Counter.builder("kms.rpc.rate_limited")
            .description("pRPC requests refused by the per-client rate limiter (429), by method")
            .tags("method", method)
            .register(registry),
        Timer.builder("kms.rpc.request.duration")
            .description("pRPC request duration, from routing to response")
            .tags("method", method)
            .publishPercentileHistogram()
            .register(registry),
        attestation);
  }

  private static Counter requests(MeterRegistry registry, String method, String outcome) {
    return Counter.builder("kms.rpc.requests")
        .description("pRPC requests by method and outcome")
        .tags("method", method, "outcome", outcome)
        .register(registry);
  }

  /** Counts one request refused by the rate limiter (also recorded as a finished request). */
  void rateLimited(String method) {
    meters.getOrDefault(method, unknown).rateLimited().increment();
  }

  /** Records one finished request; {@code method} is the trimmed name (unknown ones pooled). */
  void record(String method, int status, long nanos) {
    MethodMeters m = meters.getOrDefault(method, unknown);
    boolean failed = status >= 400;
    (failed ? m.error() : m.ok()).increment();
    m.duration().record(nanos, TimeUnit.NANOSECONDS);
    AttestationCounters attestation = m.attestation();
    if (attestation != null) {
      attestation.requests().increment();
      if (failed) {
        attestation.failures().increment();
      }
    }
  }
}
