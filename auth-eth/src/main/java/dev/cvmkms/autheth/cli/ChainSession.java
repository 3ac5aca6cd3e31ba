package dev.cvmkms.autheth.cli;

import dev.cvmkms.autheth.chain.Breakers;
import dev.cvmkms.autheth.chain.Deadline;
import dev.cvmkms.autheth.chain.OutboundBudget;
import dev.cvmkms.autheth.chain.RpcClient;
import dev.cvmkms.autheth.chain.RpcException;
import dev.cvmkms.autheth.chain.RpcMetrics;
import dev.cvmkms.autheth.config.RpcEndpoint;
import dev.cvmkms.autheth.config.RpcSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.utils.Numeric;

/**
 * Blocking JSON-RPC for the CLI, over the same resilient client the service uses: reads, and legacy
 * EIP-155 transactions signed locally with web3j and sent raw.
 */
final class ChainSession implements AutoCloseable {
  private static final Duration CALL_BUDGET = Duration.ofSeconds(30);

  private final Vertx vertx = Vertx.vertx();
  private final RpcClient rpc;
  private long chainId = -1;

  ChainSession(RpcEndpoint endpoint) {
    RpcSettings d = RpcSettings.defaults();
    RpcSettings s =
        new RpcSettings(
            d.connectTimeout(),
            Duration.ofSeconds(20),
            CALL_BUDGET,
            3,
            d.backoffBase(),
            d.backoffMax(),
            d.maxRetryAfter(),
            4,
            64,
            50,
            50,
            10,
            Duration.ofSeconds(5),
            8 << 20);
    CircuitBreaker breaker =
        Breakers.create(
            "eth_rpc",
            s.breakerFailures(),
            s.breakerReset(),
            Breakers.clockOf(System::nanoTime),
            null);
    rpc =
        new RpcClient(
            vertx,
            endpoint,
            s,
            new OutboundBudget(s.ratePerSecond(), s.burst(), System::nanoTime),
            breaker,
            new RpcMetrics(new SimpleMeterRegistry(), breaker),
            System::nanoTime,
            () -> ThreadLocalRandom.current().nextDouble());
  }

  Object call(String method, Object... params) {
    try {
      return rpc.call(
              method,
              new JsonArray(java.util.List.of(params)),
              Deadline.after(CALL_BUDGET, System::nanoTime))
          .await(CALL_BUDGET.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (RpcException e) {
      throw new CliException(method + " failed: " + e.getMessage());
    } catch (Exception e) {
      throw new CliException(method + " failed: " + e.getClass().getSimpleName());
    }
  }

  long chainId() {
    if (chainId < 0) {
      chainId = Numeric.decodeQuantity((String) call("eth_chainId")).longValueExact();
    }
    return chainId;
  }

  String ethCall(String to, String data) {
    return (String) call("eth_call", new JsonObject().put("to", to).put("data", data), "latest");
  }

  /**
   * Signs and sends a transaction, waits for its receipt and requires success.
   *
   * @param to null to create a contract
   * @return the receipt
   */
  JsonObject transact(Credentials from, @Nullable String to, String data) {
    String sender = from.getAddress();
    BigInteger nonce =
        Numeric.decodeQuantity((String) call("eth_getTransactionCount", sender, "pending"));
    BigInteger gasPrice = Numeric.decodeQuantity((String) call("eth_gasPrice"));
    JsonObject estimate = new JsonObject().put("from", sender).put("data", data);
    if (to != null) {
      estimate.put("to", to);
    }
    BigInteger gas = Numeric.decodeQuantity((String) call("eth_estimateGas", estimate));
    BigInteger limit =
        gas.multiply(BigInteger.valueOf(12)).divide(BigInteger.TEN).add(BigInteger.valueOf(10_000));
    RawTransaction tx =
        to == null
            ? RawTransaction.createContractTransaction(
                nonce, gasPrice, limit, BigInteger.ZERO, data)
            : RawTransaction.createTransaction(nonce, gasPrice, limit, to, BigInteger.ZERO, data);
    byte[] signed = TransactionEncoder.signMessage(tx, chainId(), from);
    String hash = (String) call("eth_sendRawTransaction", Numeric.toHexString(signed));
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < until) {
      Object receipt = call("eth_getTransactionReceipt", hash);
      if (receipt instanceof JsonObject r) {
        if (!"0x1".equals(r.getString("status"))) {
          throw new CliException("transaction " + hash + " reverted");
        }
        return r;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
    }
    throw new CliException("no receipt for " + hash + " within 60 s");
  }

  @Override
  public void close() {
    rpc.close();
    vertx.close();
  }
}
