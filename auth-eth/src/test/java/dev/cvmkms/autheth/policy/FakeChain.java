package dev.cvmkms.autheth.policy;

import dev.cvmkms.autheth.chain.Deadline;
import dev.cvmkms.autheth.chain.JsonRpc;
import dev.cvmkms.autheth.chain.RpcException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A JSON-RPC provider in memory: answers eth_call by selector through {@link #answer}, records
 * every call, and can hold calls open ({@link #hold}) to test concurrency.
 */
final class FakeChain implements JsonRpc {
  record Call(String method, JsonArray params, Promise<Object> promise) {}

  final List<Call> calls = new ArrayList<>();
  Function<String, Object> answer = data -> null;
  long chainId = 31337;
  long head = 100;
  boolean hold;
  RpcException failure;

  @Override
  public synchronized Future<Object> call(String method, JsonArray params, Deadline deadline) {
    Promise<Object> p = Promise.promise();
    calls.add(new Call(method, params, p));
    if (hold) {
      return p.future();
    }
    if (failure != null) {
      p.fail(failure);
      return p.future();
    }
    switch (method) {
      case "eth_chainId" -> p.complete("0x" + Long.toHexString(chainId));
      case "eth_blockNumber" -> p.complete("0x" + Long.toHexString(head));
      case "eth_call" ->
          p.complete(answer.apply(((JsonObject) params.getValue(0)).getString("data")));
      default -> p.fail(new RpcException(RpcException.Kind.RPC_ERROR, "unknown method"));
    }
    return p.future();
  }

  long count(String method) {
    return calls.stream().filter(c -> c.method().equals(method)).count();
  }
}
