package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.BootstrapResponse;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.KmsKeyResponse;
import dev.cvmkms.kms.proto.KmsKeys;
import dev.cvmkms.kms.proto.KmsRpc;
import dev.cvmkms.kms.proto.PublicKeyResponse;
import dev.cvmkms.kms.proto.SignCertRequest;
import dev.cvmkms.kms.proto.SignCertResponse;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PrpcJsonTest {

  static Stream<Descriptor> everyMessage() {
    return KmsRpc.getDescriptor().getMessageTypes().stream();
  }

  @Test
  void coversEveryMessageOfTheProto() {
    assertThat(everyMessage().map(Descriptor::getName))
        .contains(
            "GetAppKeyRequest",
            "AppId",
            "PublicKeyResponse",
            "AppKeyResponse",
            "GetMetaResponse",
            "GetKmsKeyRequest",
            "KmsKeys",
            "KmsKeyResponse",
            "GetTempCaCertResponse",
            "SignCertRequest",
            "SignCertResponse",
            "ClearImageCacheRequest",
            "BootstrapRequest",
            "BootstrapResponse",
            "OnboardRequest",
            "OnboardResponse",
            "AttestationInfoResponse",
            "ProtoError")
        .hasSize(18);
  }

  @ParameterizedTest
  @MethodSource("everyMessage")
  void jsonRoundTripWithEveryFieldSet(Descriptor descriptor) {
    Message message = TestMessages.filled(descriptor);
    TestMessages.assertEveryFieldSet(message);

    byte[] json = PrpcJson.encode(message);
    Message back = PrpcJson.decode(json, TestMessages.defaultInstance(descriptor));

    assertThat(back).isEqualTo(message);
    assertThat(back.getClass()).isEqualTo(message.getClass());
    // Every field name appears as a snake_case key, in field order.
    String text = new String(json, StandardCharsets.UTF_8);
    int last = -1;
    for (FieldDescriptor field : descriptor.getFields()) {
      int at = text.indexOf("\"" + field.getName() + "\":");
      assertThat(at).as(field.getName()).isGreaterThan(last);
      last = at;
    }
  }

  @ParameterizedTest
  @MethodSource("everyMessage")
  void binaryRoundTripWithEveryFieldSet(Descriptor descriptor) throws Exception {
    Message message = TestMessages.filled(descriptor);
    Message defaults = TestMessages.defaultInstance(descriptor);

    Message back = defaults.getParserForType().parseFrom(message.toByteArray());

    assertThat(back).isEqualTo(message);
    // And across the two encodings: binary -> JSON -> binary is lossless.
    Message viaJson = PrpcJson.decode(PrpcJson.encode(back), defaults);
    assertThat(viaJson.toByteArray()).isEqualTo(message.toByteArray());
  }

  @ParameterizedTest
  @MethodSource("everyMessage")
  void defaultMessageRoundTrips(Descriptor descriptor) {
    Message defaults = TestMessages.defaultInstance(descriptor);
    assertThat(PrpcJson.decode(PrpcJson.encode(defaults), defaults)).isEqualTo(defaults);
  }

  @Test
  void getMetaWithAbsentOptionalsIsExact() {
    GetMetaResponse meta =
        GetMetaResponse.newBuilder()
            .setCaCert("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
            .setAllowAnyUpgrade(true)
            .setK256Pubkey(bytes(0x03, 0xAB, 0x00, 0xFF))
            .setIsDev(true)
            .setGatewayAppId("any")
            .build();

    assertThat(PrpcJson.encodeToString(meta))
        .isEqualTo(
            "{\"ca_cert\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\","
                + "\"allow_any_upgrade\":true,\"k256_pubkey\":\"03ab00ff\","
                + "\"bootstrap_info\":null,\"is_dev\":true,\"gateway_app_id\":\"any\","
                + "\"kms_contract_address\":null,\"chain_id\":null,"
                + "\"app_auth_implementation\":null}");
  }

  @Test
  void getMetaWithEverythingPresentIsExact() {
    GetMetaResponse meta =
        GetMetaResponse.newBuilder()
            .setK256Pubkey(bytes(0x02))
            .setBootstrapInfo(
                BootstrapResponse.newBuilder()
                    .setCaPubkey(bytes(0x30, 0x59))
                    .setAttestation(bytes(0xDE, 0xAD)))
            .setGatewayAppId("")
            .setKmsContractAddress("0xe6c23bfE4686E28DcDA15A1996B1c0C549656E26")
            .setChainId(0) // present though zero: an optional set to its default is not null
            .setAppAuthImplementation("0xc308")
            .build();

    assertThat(PrpcJson.encodeToString(meta))
        .isEqualTo(
            "{\"ca_cert\":\"\",\"allow_any_upgrade\":false,\"k256_pubkey\":\"02\","
                + "\"bootstrap_info\":{\"ca_pubkey\":\"3059\",\"k256_pubkey\":\"\","
                + "\"attestation\":\"dead\"},\"is_dev\":false,\"gateway_app_id\":\"\","
                + "\"kms_contract_address\":\"0xe6c23bfE4686E28DcDA15A1996B1c0C549656E26\","
                + "\"chain_id\":0,\"app_auth_implementation\":\"0xc308\"}");
    assertThat(PrpcJson.decode(PrpcJson.encode(meta), GetMetaResponse.getDefaultInstance()))
        .isEqualTo(meta);
  }

  @Test
  void unsignedIntegersUseTheirFullRange() {
    PublicKeyResponse response =
        PublicKeyResponse.newBuilder().setTimestamp(-1L).setPublicKey(bytes(1)).build();
    assertThat(PrpcJson.encodeToString(response))
        .isEqualTo(
            "{\"public_key\":\"01\",\"signature\":\"\",\"timestamp\":18446744073709551615,"
                + "\"signature_v1\":\"\"}");
    GetAppKeyRequest request = GetAppKeyRequest.newBuilder().setApiVersion(0xFFFF_FFFF).build();
    assertThat(PrpcJson.encodeToString(request))
        .isEqualTo("{\"api_version\":4294967295,\"vm_config\":\"\"}");
    assertThat(PrpcJson.decode(PrpcJson.encode(request), GetAppKeyRequest.getDefaultInstance()))
        .isEqualTo(request);
  }

  @Test
  void repeatedFieldsAreArrays() {
    KmsKeyResponse keys =
        KmsKeyResponse.newBuilder()
            .setTempCaKey("t")
            .addKeys(KmsKeys.newBuilder().setCaKey("c").setK256Key(bytes(0x0A, 0xBC)))
            .build();
    assertThat(PrpcJson.encodeToString(keys))
        .isEqualTo("{\"temp_ca_key\":\"t\",\"keys\":[{\"ca_key\":\"c\",\"k256_key\":\"0abc\"}]}");
    assertThat(PrpcJson.encodeToString(SignCertResponse.getDefaultInstance()))
        .isEqualTo("{\"certificate_chain\":[]}");
    assertThat(
            PrpcJson.encodeToString(
                SignCertResponse.newBuilder()
                    .addCertificateChain("leaf")
                    .addCertificateChain("ca")
                    .build()))
        .isEqualTo("{\"certificate_chain\":[\"leaf\",\"ca\"]}");
  }

  @Test
  void stringsAreEscapedLikeSerdeJson() {
    String tricky = "q\"b\\s/\u0001\u001f\u007f\b\f\n\r\tü€😀";
    String json =
        PrpcJson.encodeToString(SignCertResponse.newBuilder().addCertificateChain(tricky).build());
    assertThat(json)
        .isEqualTo(
            "{\"certificate_chain\":[\"q\\\"b\\\\s/\\u0001\\u001f\u007f\\b\\f\\n\\r\\tü€😀\"]}");
    assertThat(
            PrpcJson.decode(
                    json.getBytes(StandardCharsets.UTF_8), SignCertResponse.getDefaultInstance())
                .getCertificateChain(0))
        .isEqualTo(tricky);
  }

  @Test
  void emptyEncodesAsNullAndIgnoresAnyPayload() {
    assertThat(PrpcJson.encodeToString(Empty.getDefaultInstance())).isEqualTo("null");
    assertThat(PrpcJson.decode(utf8("{{ not json"), Empty.getDefaultInstance()))
        .isEqualTo(Empty.getDefaultInstance());
    assertThat(PrpcJson.decodeQuery("%zz", Empty.getDefaultInstance()))
        .isEqualTo(Empty.getDefaultInstance());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "\n", "null", " null ", "{}", " { } "})
  void nullEmptyAndEmptyObjectGiveTheDefault(String payload) {
    assertThat(PrpcJson.decode(utf8(payload), SignCertRequest.getDefaultInstance()))
        .isEqualTo(SignCertRequest.getDefaultInstance());
  }

  @Test
  void missingFieldsDefaultAndUnknownFieldsAreIgnored() {
    SignCertRequest request =
        PrpcJson.decode(
            utf8(
                "{\"extra\":{\"deep\":[1,{\"x\":null}],\"y\":\"z\"},\"csr\":\"0a0B\","
                    + "\"more\":[[[]]],\"vm_config\":\"{}\",\"n\":1.5e3}"),
            SignCertRequest.getDefaultInstance());
    assertThat(request)
        .isEqualTo(
            SignCertRequest.newBuilder().setCsr(bytes(0x0A, 0x0B)).setVmConfig("{}").build());
  }

  @Test
  void nullValuesLeaveFieldsAbsent() {
    GetMetaResponse meta =
        PrpcJson.decode(
            utf8("{\"bootstrap_info\":null,\"chain_id\":null,\"ca_cert\":null}"),
            GetMetaResponse.getDefaultInstance());
    assertThat(meta.hasBootstrapInfo()).isFalse();
    assertThat(meta.hasChainId()).isFalse();
    assertThat(meta).isEqualTo(GetMetaResponse.getDefaultInstance());
  }

  @Test
  void hexAcceptsPrefixesAndAnyCase() {
    assertThat(decodeAppId("{\"app_id\":\"0xABcdEF\"}")).isEqualTo(bytes(0xAB, 0xCD, 0xEF));
    assertThat(decodeAppId("{\"app_id\":\"abCDef\"}")).isEqualTo(bytes(0xAB, 0xCD, 0xEF));
    // dstack trims "0x" with trim_start_matches: every leading repetition goes.
    assertThat(decodeAppId("{\"app_id\":\"0x0x01\"}")).isEqualTo(bytes(0x01));
    assertThat(decodeAppId("{\"app_id\":\"\"}")).isEqualTo(ByteString.EMPTY);
    assertThat(decodeAppId("{\"app_id\":\"0x\"}")).isEqualTo(ByteString.EMPTY);
  }

  @Test
  void badHexNamesTheField() {
    assertInvalid("{\"app_id\":\"abc\"}", AppId.getDefaultInstance(), "app_id", "odd");
    assertInvalid("{\"app_id\":\"zz\"}", AppId.getDefaultInstance(), "app_id", "non-hex");
    assertInvalid("{\"app_id\":\"0X01\"}", AppId.getDefaultInstance(), "app_id", "non-hex");
    assertInvalid("{\"app_id\":\"１２\"}", AppId.getDefaultInstance(), "app_id", "non-hex");
    assertInvalid("{\"app_id\":12}", AppId.getDefaultInstance(), "app_id", "hex string");
    assertInvalid(
        "{\"bootstrap_info\":{\"attestation\":\"0g\"}}",
        GetMetaResponse.getDefaultInstance(),
        "bootstrap_info.attestation",
        "non-hex");
    assertInvalid(
        "{\"keys\":[{\"k256_key\":\"01\"},{\"k256_key\":\"1\"}]}",
        KmsKeyResponse.getDefaultInstance(),
        "keys[1].k256_key",
        "odd");
  }

  @Test
  void integersAreRangeAndTypeChecked() {
    GetAppKeyRequest defaults = GetAppKeyRequest.getDefaultInstance();
    assertInvalid("{\"api_version\":-1}", defaults, "api_version", "out of range");
    assertInvalid("{\"api_version\":4294967296}", defaults, "api_version", "out of range");
    assertInvalid("{\"api_version\":1.5}", defaults, "api_version", "integer");
    assertInvalid("{\"api_version\":\"1\"}", defaults, "api_version", "integer");
    assertInvalid("{\"api_version\":true}", defaults, "api_version", "integer");
    assertInvalid(
        "{\"timestamp\":18446744073709551616}",
        PublicKeyResponse.getDefaultInstance(),
        "timestamp",
        "out of range");
    assertThat(
            PrpcJson.decode(
                    utf8("{\"timestamp\":18446744073709551615}"),
                    PublicKeyResponse.getDefaultInstance())
                .getTimestamp())
        .isEqualTo(-1L);
  }

  @Test
  void otherTypeMismatchesNameTheField() {
    assertInvalid(
        "{\"vm_config\":1}", GetAppKeyRequest.getDefaultInstance(), "vm_config", "string");
    assertInvalid(
        "{\"is_dev\":\"true\"}", GetMetaResponse.getDefaultInstance(), "is_dev", "boolean");
    assertInvalid(
        "{\"bootstrap_info\":[]}",
        GetMetaResponse.getDefaultInstance(),
        "bootstrap_info",
        "object");
    assertInvalid(
        "{\"certificate_chain\":\"x\"}",
        SignCertResponse.getDefaultInstance(),
        "certificate_chain",
        "array");
    assertInvalid(
        "{\"certificate_chain\":[null]}",
        SignCertResponse.getDefaultInstance(),
        "certificate_chain[0]",
        "not null");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"app_id\":", // truncated
        "{app_id:\"01\"}", // unquoted key
        "{\"app_id\":\"01\",}", // trailing comma
        "[]", // not an object
        "\"01\"",
        "{} {}", // trailing data
        "{\"app_id\":\"01\"} x",
        "nul",
      })
  void malformedJsonIsAClearInvalidRequest(String payload) {
    assertThatThrownBy(() -> PrpcJson.decode(utf8(payload), AppId.getDefaultInstance()))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(KmsException.Kind.INVALID_REQUEST);
              assertThat(e.publicMessage()).startsWith("invalid JSON request");
            });
  }

  @Test
  void duplicateKeysAreRejected() {
    assertInvalid(
        "{\"app_id\":\"01\",\"app_id\":\"02\"}", AppId.getDefaultInstance(), "app_id", "duplicate");
  }

  @Test
  void nestingDepthIsBounded() {
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertThatThrownBy(
            () -> PrpcJson.decode(utf8("{\"x\":" + deep + "}"), AppId.getDefaultInstance()))
        .isInstanceOf(KmsException.class)
        .hasMessageContaining("invalid JSON request");
    String fine = "[".repeat(20) + "]".repeat(20);
    assertThat(PrpcJson.decode(utf8("{\"x\":" + fine + "}"), AppId.getDefaultInstance()))
        .isEqualTo(AppId.getDefaultInstance());
  }

  @Test
  void queryStringsDecodeTypedByField() {
    String hex = "1111111111111111111111111111111111111111";
    assertThat(PrpcJson.decodeQuery("app_id=" + hex + "&json", AppId.getDefaultInstance()))
        .isEqualTo(AppId.newBuilder().setAppId(ByteString.fromHex(hex)).build());
    assertThat(PrpcJson.decodeQuery("json=1&app_id=0x" + hex, AppId.getDefaultInstance()))
        .isEqualTo(AppId.newBuilder().setAppId(ByteString.fromHex(hex)).build());
    assertThat(
            PrpcJson.decodeQuery(
                "api_version=4294967295&vm_config=%7B%22a%22%3A+1%7D&unknown=x",
                GetAppKeyRequest.getDefaultInstance()))
        .isEqualTo(
            GetAppKeyRequest.newBuilder().setApiVersion(-1).setVmConfig("{\"a\": 1}").build());
    assertThat(
            PrpcJson.decodeQuery(
                "is_dev=true&chain_id=18446744073709551615&bootstrap_info[ca_pubkey]=0a",
                GetMetaResponse.getDefaultInstance()))
        .isEqualTo(
            GetMetaResponse.newBuilder()
                .setIsDev(true)
                .setChainId(-1L)
                .setBootstrapInfo(BootstrapResponse.newBuilder().setCaPubkey(bytes(0x0A)))
                .build());
  }

  @Test
  void queryStringsFillRepeatedFields() {
    SignCertResponse expected =
        SignCertResponse.newBuilder().addCertificateChain("a").addCertificateChain("b").build();
    assertThat(
            PrpcJson.decodeQuery(
                "certificate_chain[]=a&certificate_chain[]=b",
                SignCertResponse.getDefaultInstance()))
        .isEqualTo(expected);
    assertThat(
            PrpcJson.decodeQuery(
                "certificate_chain[1]=b&certificate_chain[0]=a",
                SignCertResponse.getDefaultInstance()))
        .isEqualTo(expected);
    assertThat(
            PrpcJson.decodeQuery(
                "certificate_chain%5B0%5D=a&certificate_chain%5B1%5D=b",
                SignCertResponse.getDefaultInstance()))
        .isEqualTo(expected);
    assertThat(
            PrpcJson.decodeQuery(
                "keys[0][ca_key]=k&keys[0][k256_key]=01", KmsKeyResponse.getDefaultInstance()))
        .isEqualTo(
            KmsKeyResponse.newBuilder()
                .addKeys(KmsKeys.newBuilder().setCaKey("k").setK256Key(bytes(1)))
                .build());
  }

  @Test
  void emptyQueriesGiveTheDefault() {
    assertThat(PrpcJson.decodeQuery(null, AppId.getDefaultInstance()))
        .isEqualTo(AppId.getDefaultInstance());
    assertThat(PrpcJson.decodeQuery("", AppId.getDefaultInstance()))
        .isEqualTo(AppId.getDefaultInstance());
    assertThat(PrpcJson.decodeQuery("json&&", AppId.getDefaultInstance()))
        .isEqualTo(AppId.getDefaultInstance());
  }

  @Test
  void badQueryValuesNameTheField() {
    assertInvalidQuery("app_id=abc", AppId.getDefaultInstance(), "app_id", "odd");
    assertInvalidQuery(
        "api_version=x", GetAppKeyRequest.getDefaultInstance(), "api_version", "unsigned");
    assertInvalidQuery(
        "api_version=", GetAppKeyRequest.getDefaultInstance(), "api_version", "unsigned");
    assertInvalidQuery(
        "api_version=-1", GetAppKeyRequest.getDefaultInstance(), "api_version", "unsigned");
    assertInvalidQuery(
        "api_version=4294967296",
        GetAppKeyRequest.getDefaultInstance(),
        "api_version",
        "out of range");
    assertInvalidQuery("is_dev=1", GetMetaResponse.getDefaultInstance(), "is_dev", "boolean");
    assertInvalidQuery(
        "bootstrap_info=1", GetMetaResponse.getDefaultInstance(), "bootstrap_info", "message");
    assertInvalidQuery("app_id=%zz", AppId.getDefaultInstance(), "", "percent");
  }

  private static void assertInvalid(String json, Message defaults, String field, String problem) {
    assertThatThrownBy(() -> PrpcJson.decode(utf8(json), defaults))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(KmsException.Kind.INVALID_REQUEST);
              assertThat(e.publicMessage()).contains(field).contains(problem);
            });
  }

  private static void assertInvalidQuery(
      String query, Message defaults, String field, String problem) {
    assertThatThrownBy(() -> PrpcJson.decodeQuery(query, defaults))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(KmsException.Kind.INVALID_REQUEST);
              assertThat(e.publicMessage()).contains(field).contains(problem);
            });
  }

  private static ByteString decodeAppId(String json) {
    return PrpcJson.decode(utf8(json), AppId.getDefaultInstance()).getAppId();
  }

  static ByteString bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return ByteString.copyFrom(out);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
