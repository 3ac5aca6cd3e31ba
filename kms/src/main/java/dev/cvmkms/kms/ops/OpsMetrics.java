package dev.cvmkms.kms.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.cert.X509Certificate;
import java.util.Map;

/**
 * Gauges the shipped alert rules ({@code cvm-image/monitoring/}) page on: {@code kms_ready} (1 when
 * {@code /healthz/ready} answers 200) and {@code kms_certificate_not_after_seconds{cert}} (each
 * served certificate's notAfter, Unix seconds; {@code cert} is {@code root_ca}, {@code tmp_ca} or
 * {@code rpc}).
 */
public final class OpsMetrics {
  private OpsMetrics() {}

  public static void readiness(MeterRegistry registry, Readiness readiness) {
    Gauge.builder("kms.ready", readiness, r -> r.isReady() ? 1 : 0)
        .description("1 when the KMS is ready (keys loaded, listener accepting, not draining)")
        .strongReference(true)
        .register(registry);
  }

  /** One gauge per certificate, by role; the certificates are fixed for the process's life. */
  public static void certificates(MeterRegistry registry, Map<String, X509Certificate> byRole) {
    byRole.forEach(
        (role, cert) -> {
          double notAfter = cert.getNotAfter().toInstant().getEpochSecond();
          Gauge.builder("kms.certificate.not_after", () -> notAfter)
              .description("notAfter of a served certificate, in seconds since the Unix epoch")
              .baseUnit("seconds")
              .tag("cert", role)
              .strongReference(true)
              .register(registry);
        });
  }
}
