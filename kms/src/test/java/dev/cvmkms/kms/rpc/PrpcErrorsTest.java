package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.proto.ProtoError;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class PrpcErrorsTest {

  @Test
  void jsonBodyIsSerdePrettyPrinted() {
    assertThat(new String(PrpcErrors.jsonBody("Service not found: Nope"), StandardCharsets.UTF_8))
        .isEqualTo("{\n  \"error\": \"Service not found: Nope\"\n}");
  }

  @Test
  void jsonBodyEscapesTheMessage() {
    assertThat(new String(PrpcErrors.jsonBody("bad \"x\"\\\n\u0002 ü"), StandardCharsets.UTF_8))
        .isEqualTo("{\n  \"error\": \"bad \\\"x\\\"\\\\\\n\\u0002 ü\"\n}");
  }

  @Test
  void protoBodyIsProtoErrorBytes() {
    assertThat(HexFormat.of().formatHex(PrpcErrors.protoBody("hello"))).isEqualTo("0a0568656c6c6f");
    // A message of 200 bytes needs a two-byte varint length: 0xc8 0x01.
    String longMessage = "e".repeat(200);
    byte[] body = PrpcErrors.protoBody(longMessage);
    assertThat(HexFormat.of().formatHex(body, 0, 3)).isEqualTo("0ac801");
    assertThat(body).hasSize(203);
    // Non-ASCII counts in UTF-8 bytes.
    assertThat(HexFormat.of().formatHex(PrpcErrors.protoBody("ü"))).isEqualTo("0a02c3bc");
  }

  @Test
  void protoBodyParsesAsProtoError() throws Exception {
    assertThat(ProtoError.parseFrom(PrpcErrors.protoBody("denied")).getMessage())
        .isEqualTo("denied");
  }

  @Test
  void kmsExceptionsCarryTheirPublicMessage() {
    assertThat(PrpcErrors.publicMessage(KmsException.invalid("app_id must be 20 bytes")))
        .isEqualTo("app_id must be 20 bytes");
    assertThat(
            PrpcErrors.publicMessage(
                new KmsException(KmsException.Kind.DENIED, "App not allowed: reason")))
        .isEqualTo("App not allowed: reason");
    assertThat(
            PrpcErrors.publicMessage(
                new CompletionException(
                    new KmsException(KmsException.Kind.UPSTREAM_UNAVAILABLE, "auth api down"))))
        .isEqualTo("auth api down");
  }

  @Test
  void everythingElseIsAFixedInternalError() {
    assertThat(
            PrpcErrors.publicMessage(
                new KmsException(KmsException.Kind.INTERNAL, "disk key path /secret leaked")))
        .isEqualTo("internal error");
    assertThat(PrpcErrors.publicMessage(new IllegalStateException("key bytes 0xdeadbeef")))
        .isEqualTo("internal error");
    assertThat(PrpcErrors.publicMessage(new CompletionException(new RuntimeException("x"))))
        .isEqualTo("internal error");
    assertThat(PrpcErrors.publicMessage(new StackOverflowError())).isEqualTo("internal error");
  }
}
