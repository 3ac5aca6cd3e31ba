package dev.cvmkms.autheth.chain;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;

/** A JSON-RPC 2.0 call; the future holds the {@code result} value or fails with RpcException. */
@FunctionalInterface
public interface JsonRpc {
  Future<Object> call(String method, JsonArray params, Deadline deadline);
}
