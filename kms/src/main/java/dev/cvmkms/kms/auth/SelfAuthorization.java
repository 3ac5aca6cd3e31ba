package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * dstack's {@code ensure_self_allowed}: before a trusted RPC, the KMS asks the policy whether it
 * itself may run ({@code /bootAuth/kms} with its own BootInfo). The BootInfo (an attestation of
 * this CVM) is computed once per process, only successes are kept; the decision is asked on every
 * call, shared only by concurrent calls, so a KMS revoked on chain stops serving at once.
 */
public final class SelfAuthorization {
  private static final String PREFIX = "KMS self authorization failed: ";

  private final AuthPolicy policy;
  private final Supplier<Future<BootInfo>> computeSelfBootInfo;
  private final boolean enforce;
  private final AtomicReference<Future<BootInfo>> selfBootInfo = new AtomicReference<>();
  private final SingleFlight<BootInfo, BootDecision> inFlight = new SingleFlight<>();

  /**
   * @param computeSelfBootInfo attests this CVM and builds its BootInfo; called again only if it
   *     failed
   * @param enforce {@code enforce_self_authorization}; false skips the check (dev only)
   */
  public SelfAuthorization(
      AuthPolicy policy, Supplier<Future<BootInfo>> computeSelfBootInfo, boolean enforce) {
    this.policy = policy;
    this.computeSelfBootInfo = computeSelfBootInfo;
    this.enforce = enforce;
  }

  public boolean enforced() {
    return enforce;
  }

  /**
   * Succeeds if the policy allows this KMS now; fails with DENIED ({@code KMS self authorization
   * failed: KMS is not allowed: <reason>}) or, when the BootInfo or the policy is unavailable, with
   * that error's kind (UPSTREAM_UNAVAILABLE for a plain failure) and a prefixed message.
   */
  public Future<Void> requireSelfAllowed() {
    if (!enforce) {
      return Future.succeededFuture();
    }
    return selfBootInfo()
        .compose(boot -> inFlight.run(boot, () -> policy.checkKms(boot)))
        .transform(
            ar -> {
              if (ar.failed()) {
                return Future.failedFuture(wrap(ar.cause()));
              }
              BootDecision d = ar.result();
              if (!d.isAllowed()) {
                return Future.failedFuture(
                    new KmsException(
                        KmsException.Kind.DENIED, PREFIX + "KMS is not allowed: " + d.reason()));
              }
              return Future.succeededFuture();
            });
  }

  /** Memoized on success; a failure is dropped so the next call computes again. */
  private Future<BootInfo> selfBootInfo() {
    while (true) {
      Future<BootInfo> current = selfBootInfo.get();
      if (current != null && !current.failed()) {
        return SingleFlight.onCallerContext(current);
      }
      Promise<BootInfo> p = Promise.promise();
      Future<BootInfo> mine = p.future();
      if (!selfBootInfo.compareAndSet(current, mine)) {
        continue;
      }
      Future<BootInfo> computed;
      try {
        computed = computeSelfBootInfo.get();
      } catch (RuntimeException e) {
        computed = Future.failedFuture(e);
      }
      computed.onComplete(
          ar -> {
            if (ar.failed()) {
              selfBootInfo.compareAndSet(mine, null);
            }
            p.handle(ar);
          });
      return mine;
    }
  }

  private static KmsException wrap(Throwable cause) {
    if (cause instanceof KmsException k) {
      String message = Objects.requireNonNullElse(k.getMessage(), ""); // KmsException requires one
      if (message.startsWith(PREFIX)) {
        return k;
      }
      return new KmsException(k.kind(), PREFIX + message, k);
    }
    String msg =
        cause instanceof dev.cvmkms.kms.attestation.AttestationException a
            ? a.publicMessage()
            : cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return new KmsException(KmsException.Kind.UPSTREAM_UNAVAILABLE, PREFIX + msg, cause);
  }
}
