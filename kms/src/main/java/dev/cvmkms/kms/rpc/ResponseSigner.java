package dev.cvmkms.kms.rpc;

import io.vertx.core.Future;
import java.util.Map;

/**
 * Signs successful responses of some methods at the edge, over the exact bytes sent (JSON and
 * protobuf bodies differ, so only the edge can). {@link PrpcRoutes} adds the returned headers to
 * the 200 response; a failed Future turns the response into an internal error rather than send it
 * unsigned.
 */
@FunctionalInterface
public interface ResponseSigner {
  /**
   * The headers to add to the response of {@code method} carrying {@code body}. Called on the event
   * loop: must not block (a cached answer may complete at once; signing runs elsewhere).
   */
  Future<Map<String, String>> sign(String method, byte[] body);
}
