package dev.cvmkms.kms.rpc;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The named worker pool for CPU-bound crypto and blocking attestation I/O (quote verification,
 * signing, derivation, guest-agent and PCCS calls): never on the event loop. Unordered, so
 * independent requests run in parallel (Vert.x's default would serialise them per context).
 */
public final class CryptoPool {
  private final WorkerExecutor executor;

  public CryptoPool(Vertx vertx, int size, long maxExecuteSeconds) {
    this.executor =
        vertx.createSharedWorkerExecutor("kms-crypto", size, maxExecuteSeconds, TimeUnit.SECONDS);
  }

  public <T> Future<T> run(Callable<T> work) {
    return executor.executeBlocking(work, false);
  }

  public Future<Void> close() {
    return executor.close();
  }
}
