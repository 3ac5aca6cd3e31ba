package dev.cvmkms.kms.rpc;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * One pRPC method served by {@link PrpcRoutes}.
 *
 * <p>The handler runs on the Vert.x event loop of the request: it must not block (run crypto and
 * file I/O on a worker and return the Future). A thrown exception or a failed Future becomes a pRPC
 * error through {@link PrpcErrors}; a {@link dev.cvmkms.kms.KmsException} carries the text the
 * caller sees.
 *
 * @param name the bare method name, e.g. {@code GetMeta} (no service prefix)
 * @param requestDefault the request type's default instance, e.g. {@code
 *     AppId.getDefaultInstance()}; {@code google.protobuf.Empty} means the payload is ignored
 * @param handler computes the response from the caller and the decoded request
 * @param bodyLimit the largest request body accepted, in bytes; larger ones get {@code payload too
 *     large} before being buffered
 * @param <Req> the request message type
 * @param <Resp> the response message type ({@code google.protobuf.Empty} encodes as JSON {@code
 *     null})
 */
public record PrpcMethod<Req extends Message, Resp extends Message>(
    String name,
    Req requestDefault,
    BiFunction<Caller, Req, Future<Resp>> handler,
    long bodyLimit) {

  /** dstack's default pRPC body limit (Rocket {@code limits}): 10 MiB. */
  public static final long DEFAULT_BODY_LIMIT = 10L * 1024 * 1024;

  public PrpcMethod {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(requestDefault, "requestDefault");
    Objects.requireNonNull(handler, "handler");
    if (name.isEmpty() || name.contains(".") || name.contains("/")) {
      throw new IllegalArgumentException("pRPC method name must be bare: " + name);
    }
    if (bodyLimit < 0) {
      throw new IllegalArgumentException("bodyLimit must be >= 0: " + bodyLimit);
    }
  }

  /** A method with the {@link #DEFAULT_BODY_LIMIT}. */
  public static <Req extends Message, Resp extends Message> PrpcMethod<Req, Resp> of(
      String name, Req requestDefault, BiFunction<Caller, Req, Future<Resp>> handler) {
    return new PrpcMethod<>(name, requestDefault, handler, DEFAULT_BODY_LIMIT);
  }

  /** True when the request type is {@code google.protobuf.Empty}: the payload is not decoded. */
  public boolean ignoresPayload() {
    return PrpcJson.isEmpty(requestDefault.getDescriptorForType());
  }

  /** Invokes the handler; keeps the unchecked cast from the wildcard routes in one place. */
  Future<Resp> invoke(Caller caller, Message request) {
    @SuppressWarnings("unchecked")
    Req typed = (Req) request;
    return handler.apply(caller, typed);
  }
}
