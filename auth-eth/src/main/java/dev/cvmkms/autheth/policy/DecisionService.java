package dev.cvmkms.autheth.policy;

import dev.cvmkms.autheth.chain.BootInfo;
import dev.cvmkms.autheth.chain.Deadline;
import dev.cvmkms.autheth.chain.Decision;
import dev.cvmkms.autheth.chain.KmsContract;
import dev.cvmkms.autheth.chain.RpcException;
import dev.cvmkms.autheth.config.Finality;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code bootAuth}: one {@code eth_call} per request (identical concurrent requests share
 * it), {@code gatewayAppId} from the metadata cache, and every failure turned into upstream's
 * fail-closed answer. Decisions are never kept after their call completes.
 */
public final class DecisionService {
  private static final Logger log = LoggerFactory.getLogger(DecisionService.class);

  private final KmsContract contract;
  private final MetadataCache metadata;
  private final Finality finality;
  private final OptionalLong expectedChainId;
  private final Duration budget;
  private final LongSupplier clock;
  private final SingleFlight<String, Decision> decisions = new SingleFlight<>();
  private final SingleFlight<String, Long> heads = new SingleFlight<>();
  private static final long WARN_EVERY_NANOS = 5_000_000_000L;
  private final AtomicLong lastWarn = new AtomicLong(Long.MIN_VALUE / 2);
  private final AtomicLong suppressed = new AtomicLong();

  public DecisionService(
      KmsContract contract,
      MetadataCache metadata,
      Finality finality,
      OptionalLong expectedChainId,
      Duration budget,
      LongSupplier clock) {
    this.contract = contract;
    this.metadata = metadata;
    this.finality = finality;
    this.expectedChainId = expectedChainId;
    this.budget = budget;
    this.clock = clock;
  }

  public Future<BootResponse> decide(BootInfo info, boolean kms) {
    Deadline deadline = Deadline.after(budget, clock);
    String calldata = KmsContract.encodeBootCheck(info, kms);
    Future<MetadataCache.Snapshot> meta = metadata.get();
    Future<Decision> decision =
        meta.compose(
            snap -> {
              if (!chainMatches(snap.value().chainId())) {
                return Future.failedFuture(
                    new RpcException(RpcException.Kind.RPC_ERROR, "provider is on another chain"));
              }
              return blockTag(deadline)
                  .compose(
                      tag ->
                          decisions.run(
                              tag + '|' + calldata,
                              () -> contract.checkBoot(calldata, tag, deadline)));
            });
    return decision
        .timeout(Math.max(1, deadline.remainingMillis()), TimeUnit.MILLISECONDS)
        .map(d -> new BootResponse(d.allowed(), d.reason(), meta.result().value().gatewayAppId()))
        .recover(
            e -> {
              warnFailedClosed(kms, e);
              return Future.succeededFuture(BootResponse.unavailable());
            });
  }

  /** One line per 5 s at most: a 429 storm must not turn into a log storm. */
  private void warnFailedClosed(boolean kms, Throwable e) {
    long now = clock.getAsLong();
    long last = lastWarn.get();
    if (now - last >= WARN_EVERY_NANOS && lastWarn.compareAndSet(last, now)) {
      log.warn(
          "bootAuth/{} failed closed: {} ({} more since the last report)",
          kms ? "kms" : "app",
          e instanceof RpcException r ? r.getMessage() : e.getClass().getSimpleName(),
          suppressed.getAndSet(0));
    } else {
      suppressed.incrementAndGet();
    }
  }

  /** False only when ETH_CHAIN_ID is set and the provider reports another chain. */
  public boolean chainMatches(long actual) {
    return expectedChainId.isEmpty() || expectedChainId.getAsLong() == actual;
  }

  private Future<String> blockTag(Deadline deadline) {
    if (!finality.usesConfirmations()) {
      return Future.succeededFuture(finality.tag());
    }
    return heads
        .run("head", () -> contract.blockNumber(deadline))
        .map(head -> KmsContract.blockTag(head, finality.confirmations()));
  }

  public long sharedCalls() {
    return decisions.sharedCount();
  }
}
