package dev.cvmkms.kms.rpc;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.proto.ProtoError;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * The one mapping from a failure to pRPC's error response (spec kms-protocol §2.4): always HTTP
 * 400; in JSON mode {@code application/json} with serde_json's pretty body {@code {\n "error":
 * "<message>"\n}}, in protobuf mode {@code application/octet-stream} with {@code
 * ProtoError{message}} bytes. Only {@link KmsException#publicMessage()} crosses the wire; any other
 * exception becomes {@value #INTERNAL_MESSAGE} and its details belong in the log, not the response.
 */
public final class PrpcErrors {
  /** The text sent for anything that is not a {@link KmsException} (and for INTERNAL ones). */
  public static final String INTERNAL_MESSAGE = "internal error";

  /** pRPC answers every RPC error with this status. */
  public static final int STATUS = 400;

  /** Our rate limiter's status (not dstack's; it has no limiter), with the same error body. */
  public static final int TOO_MANY_REQUESTS = 429;

  private PrpcErrors() {}

  /**
   * The text the caller may see for {@code error}: a {@link KmsException}'s public message (also
   * when wrapped in a {@link CompletionException} or {@link ExecutionException}), otherwise {@value
   * #INTERNAL_MESSAGE}.
   */
  public static String publicMessage(Throwable error) {
    KmsException kms = asKmsException(error);
    return kms != null ? kms.publicMessage() : INTERNAL_MESSAGE;
  }

  /** The {@link KmsException} behind {@code error}, unwrapping future wrappers; else null. */
  static @Nullable KmsException asKmsException(Throwable error) {
    Throwable t = error;
    for (int i = 0; i < 4 && t != null; i++) {
      if (t instanceof KmsException kms) {
        return kms;
      }
      if (!(t instanceof CompletionException || t instanceof ExecutionException)) {
        return null;
      }
      t = t.getCause();
    }
    return null;
  }

  /** JSON-mode body: exactly {@code {\n "error": "<JSON-escaped message>"\n}} in UTF-8. */
  public static byte[] jsonBody(String message) {
    return ("{\n  \"error\": " + PrpcJsonWriter.quote(message) + "\n}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Protobuf-mode body: {@code ProtoError{1: message}}, i.e. {@code 0a <varint len> <utf8>}. */
  public static byte[] protoBody(String message) {
    return ProtoError.newBuilder().setMessage(message).build().toByteArray();
  }

  /** Ends {@code response} with status 400, the mode's content type and the error body. */
  public static Future<Void> send(HttpServerResponse response, boolean json, String message) {
    return send(response, STATUS, json, message);
  }

  /** Ends {@code response} with {@code status}, the mode's content type and the error body. */
  public static Future<Void> send(
      HttpServerResponse response, int status, boolean json, String message) {
    response
        .setStatusCode(status)
        .putHeader(
            HttpHeaders.CONTENT_TYPE, json ? PrpcContentTypes.JSON : PrpcContentTypes.PROTOBUF);
    return response.end(Buffer.buffer(json ? jsonBody(message) : protoBody(message)));
  }
}
