package dev.cvmkms.kms.service;

import dev.cvmkms.kms.KmsException;
import io.vertx.core.Future;
import java.util.Map;

/**
 * The audit sink for key releases and signing decisions. A line must be durable in the sink before
 * the response leaves; if it cannot be written, the request fails (fail closed, as Vault's blocking
 * audit devices do).
 */
@FunctionalInterface
public interface AuditLog {
  /** Appends one line; the future completes once it is handed to the OS. */
  Future<Void> append(Map<String, Object> line);

  /**
   * Completes like {@code outcome}, but only after its audit line was written; fails with INTERNAL
   * when the line could not be written, whatever the outcome was.
   */
  default <T> Future<T> sealed(AuditTrail trail, Future<T> outcome) {
    return outcome.transform(
        ar -> {
          Map<String, Object> line = ar.succeeded() ? trail.allowed() : trail.failed(ar.cause());
          Future<Void> written;
          try {
            written = append(line);
          } catch (RuntimeException e) {
            written = Future.failedFuture(e);
          }
          return written.transform(
              w -> {
                if (w.failed()) {
                  return Future.failedFuture(
                      new KmsException(
                          KmsException.Kind.INTERNAL,
                          "audit log unavailable for " + trail.rpc(),
                          w.cause()));
                }
                return ar.succeeded()
                    ? Future.succeededFuture(ar.result())
                    : Future.failedFuture(ar.cause());
              });
        });
  }
}
