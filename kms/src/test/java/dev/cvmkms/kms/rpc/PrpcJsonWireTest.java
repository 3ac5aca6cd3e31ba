package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.GetTempCaCertResponse;
import dev.cvmkms.kms.proto.PublicKeyResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The JSON examples of spec kms-protocol §2.5 (see src/test/resources/wire/README.md). */
class PrpcJsonWireTest {

  static Stream<Arguments> fixtures() {
    return Stream.of(
        Arguments.of("get_meta_response.json", GetMetaResponse.getDefaultInstance()),
        Arguments.of("get_meta_response_dev.json", GetMetaResponse.getDefaultInstance()),
        Arguments.of("get_temp_ca_cert_response.json", GetTempCaCertResponse.getDefaultInstance()),
        Arguments.of("get_app_env_encrypt_pub_key_request.json", AppId.getDefaultInstance()),
        Arguments.of("public_key_response.json", PublicKeyResponse.getDefaultInstance()));
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void decodesAndReEncodesByteForByte(String file, Message type) throws IOException {
    byte[] wire = read(file);
    Message decoded = PrpcJson.decode(wire, type);
    assertThat(new String(PrpcJson.encode(decoded), StandardCharsets.UTF_8))
        .isEqualTo(new String(wire, StandardCharsets.UTF_8));
  }

  @Test
  void getMetaExampleHasTheDocumentedValues() throws IOException {
    GetMetaResponse meta =
        PrpcJson.decode(read("get_meta_response.json"), GetMetaResponse.getDefaultInstance());
    assertThat(meta.getCaCert()).startsWith("-----BEGIN CERTIFICATE-----\nMIIB");
    assertThat(meta.getK256Pubkey().size()).isEqualTo(33);
    assertThat(meta.getBootstrapInfo().getK256Pubkey()).isEqualTo(meta.getK256Pubkey());
    assertThat(meta.getChainId()).isEqualTo(11155111L);
    assertThat(meta.getKmsContractAddress())
        .isEqualTo("0xe6c23bfE4686E28DcDA15A1996B1c0C549656E26");
    assertThat(meta.getIsDev()).isFalse();
  }

  @Test
  void devGetMetaExampleHasNulls() throws IOException {
    GetMetaResponse meta =
        PrpcJson.decode(read("get_meta_response_dev.json"), GetMetaResponse.getDefaultInstance());
    assertThat(meta.getIsDev()).isTrue();
    assertThat(meta.getAllowAnyUpgrade()).isTrue();
    assertThat(meta.hasBootstrapInfo()).isFalse();
    assertThat(meta.hasChainId()).isFalse();
    assertThat(meta.hasKmsContractAddress()).isFalse();
    assertThat(meta.hasAppAuthImplementation()).isFalse();
    assertThat(meta.getGatewayAppId()).isEqualTo("any");
  }

  @Test
  void appEnvRequestExampleCarriesTwentyBytes() throws IOException {
    AppId request =
        PrpcJson.decode(
            read("get_app_env_encrypt_pub_key_request.json"), AppId.getDefaultInstance());
    assertThat(request.getAppId()).isEqualTo(ByteString.fromHex("11".repeat(20)));
  }

  @Test
  void publicKeyExampleHasTheDocumentedSizes() throws IOException {
    PublicKeyResponse response =
        PrpcJson.decode(read("public_key_response.json"), PublicKeyResponse.getDefaultInstance());
    assertThat(response.getPublicKey().size()).isEqualTo(32);
    assertThat(response.getSignature().size()).isEqualTo(65);
    assertThat(response.getSignatureV1().size()).isEqualTo(65);
    assertThat(response.getTimestamp()).isEqualTo(1700000000L);
  }

  @Test
  void errorExampleIsTheJsonErrorBody() throws IOException {
    assertThat(PrpcErrors.jsonBody("app_id must be 20 bytes")).isEqualTo(read("error_app_id.json"));
  }

  static byte[] read(String file) throws IOException {
    try (InputStream in = PrpcJsonWireTest.class.getResourceAsStream("/wire/" + file)) {
      assertThat(in).as(file).isNotNull();
      return in.readAllBytes();
    }
  }
}
