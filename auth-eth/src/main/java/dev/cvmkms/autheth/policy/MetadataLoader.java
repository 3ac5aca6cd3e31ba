package dev.cvmkms.autheth.policy;

import dev.cvmkms.autheth.chain.Deadline;
import dev.cvmkms.autheth.chain.KmsContract;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Loads {@link Metadata}: the chain id once (it does not change under a provider), then {@code
 * gatewayAppId()} and {@code appImplementation()} in parallel on every refresh.
 */
public final class MetadataLoader implements Supplier<Future<Metadata>> {
  private final KmsContract contract;
  private final Duration budget;
  private final LongSupplier clock;
  private final AtomicLong chainId = new AtomicLong(-1);

  public MetadataLoader(KmsContract contract, Duration budget, LongSupplier clock) {
    this.contract = contract;
    this.budget = budget;
    this.clock = clock;
  }

  @Override
  public Future<Metadata> get() {
    Deadline deadline = Deadline.after(budget, clock);
    long known = chainId.get();
    Future<Long> id =
        known >= 0
            ? Future.succeededFuture(known)
            : contract
                .chainId(deadline)
                .andThen(
                    ar -> {
                      if (ar.succeeded()) {
                        chainId.set(ar.result());
                      }
                    });
    Future<String> gateway = contract.gatewayAppId(deadline);
    Future<String> impl = contract.appImplementation(deadline);
    return Future.all(id, gateway, impl)
        .map(v -> new Metadata(id.result(), gateway.result(), impl.result()));
  }
}
