package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.auth.AuthInfo;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.auth.BootDecision;
import dev.cvmkms.kms.auth.DevAuthPolicy;
import dev.cvmkms.kms.proto.BootstrapResponse;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.GetTempCaCertResponse;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.PrpcJson;
import io.vertx.core.Future;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class KmsServiceTest {
  private static final byte[] K256 =
      HexFormat.of().parseHex("0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c");
  private static final Caller CALLER = Caller.anonymous("127.0.0.1:1");

  private static PublicMaterial material(Optional<BootstrapResponse> boot) {
    return new PublicMaterial("ROOT PEM\n", K256, "TMP CERT\n", "TMP KEY\n", boot);
  }

  /** A fixed metadata answer, counting how often it is asked. */
  private static final class StaticAuthPolicy implements AuthPolicy {
    final AtomicInteger infoCalls = new AtomicInteger();
    final Future<AuthInfo> info;

    StaticAuthPolicy(Future<AuthInfo> info) {
      this.info = info;
    }

    @Override
    public Future<AuthInfo> info() {
      infoCalls.incrementAndGet();
      return info;
    }

    @Override
    public Future<BootDecision> checkApp(BootInfo boot) {
      return Future.failedFuture("not used");
    }

    @Override
    public Future<BootDecision> checkKms(BootInfo boot) {
      return Future.failedFuture("not used");
    }
  }

  @Test
  void getMeta_devPolicy_isDevWithNullChainFields() {
    KmsService kms =
        new KmsService(material(Optional.empty()), new DevAuthPolicy("any"), SelfCheck.disabled());

    GetMetaResponse meta = kms.getMeta(CALLER, Empty.getDefaultInstance()).result();

    assertThat(PrpcJson.encodeToString(meta))
        .isEqualTo(
            "{\"ca_cert\":\"ROOT PEM\\n\",\"allow_any_upgrade\":true,\"k256_pubkey\":\""
                + HexFormat.of().formatHex(K256)
                + "\",\"bootstrap_info\":null,\"is_dev\":true,\"gateway_app_id\":\"any\","
                + "\"kms_contract_address\":null,\"chain_id\":null,\"app_auth_implementation\":null}");
  }

  @Test
  void getMeta_webhookInfo_mapsChainFieldsAndBootstrapInfo() {
    AuthInfo info =
        new AuthInfo(
            false,
            Optional.of("0xgateway"),
            Optional.of("0xkms"),
            Optional.of(11155111L),
            Optional.of("0ximpl"),
            Optional.of("https://rpc.example"));
    BootstrapResponse boot =
        BootstrapResponse.newBuilder()
            .setCaPubkey(ByteString.copyFrom(new byte[] {1}))
            .setK256Pubkey(ByteString.copyFrom(K256))
            .setAttestation(ByteString.copyFrom(new byte[] {2}))
            .build();
    KmsService kms =
        new KmsService(
            material(Optional.of(boot)),
            new StaticAuthPolicy(Future.succeededFuture(info)),
            SelfCheck.disabled());

    GetMetaResponse meta = kms.getMeta(CALLER, Empty.getDefaultInstance()).result();

    assertThat(meta.getIsDev()).isFalse();
    assertThat(meta.getAllowAnyUpgrade()).isFalse();
    assertThat(meta.getGatewayAppId()).isEqualTo("0xgateway");
    assertThat(meta.getKmsContractAddress()).isEqualTo("0xkms");
    assertThat(meta.getChainId()).isEqualTo(11155111L);
    assertThat(meta.getAppAuthImplementation()).isEqualTo("0ximpl");
    assertThat(meta.getBootstrapInfo()).isEqualTo(boot);
    assertThat(meta.getK256Pubkey().toByteArray()).isEqualTo(K256);
  }

  @Test
  void getMeta_authInfoUnavailable_failsWithUpstreamKind() {
    KmsService kms =
        new KmsService(
            material(Optional.empty()),
            new StaticAuthPolicy(Future.failedFuture(new IllegalStateException("timed out"))),
            SelfCheck.disabled());

    Future<GetMetaResponse> meta = kms.getMeta(CALLER, Empty.getDefaultInstance());

    assertThat(meta.failed()).isTrue();
    assertThat(meta.cause())
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(KmsException.Kind.UPSTREAM_UNAVAILABLE);
              assertThat(e.publicMessage()).isEqualTo("failed to get auth info: timed out");
            });
  }

  @Test
  void getMeta_neverSelfAuthorizes() {
    SelfCheck denying =
        () -> Future.failedFuture(new KmsException(KmsException.Kind.DENIED, "denied"));
    KmsService kms = new KmsService(material(Optional.empty()), new DevAuthPolicy("any"), denying);

    assertThat(kms.getMeta(CALLER, Empty.getDefaultInstance()).succeeded()).isTrue();
  }

  @Test
  void getTempCaCert_returnsFilesVerbatim_afterTheSelfCheck() {
    AtomicInteger checks = new AtomicInteger();
    SelfCheck counting =
        () -> {
          checks.incrementAndGet();
          return Future.succeededFuture();
        };
    KmsService kms = new KmsService(material(Optional.empty()), new DevAuthPolicy("any"), counting);

    GetTempCaCertResponse r = kms.getTempCaCert(CALLER, Empty.getDefaultInstance()).result();

    assertThat(r.getTempCaCert()).isEqualTo("TMP CERT\n");
    assertThat(r.getTempCaKey()).isEqualTo("TMP KEY\n");
    assertThat(r.getCaCert()).isEqualTo("ROOT PEM\n");
    kms.getTempCaCert(CALLER, Empty.getDefaultInstance());
    assertThat(checks).as("checked on every call, never cached").hasValue(2);
  }

  @Test
  void getTempCaCert_selfCheckDenied_fails() {
    SelfCheck denying =
        () -> Future.failedFuture(new KmsException(KmsException.Kind.DENIED, "KMS is not allowed"));
    KmsService kms = new KmsService(material(Optional.empty()), new DevAuthPolicy("any"), denying);

    Future<GetTempCaCertResponse> r = kms.getTempCaCert(CALLER, Empty.getDefaultInstance());

    assertThat(r.failed()).isTrue();
    assertThat(r.cause()).hasMessage("KMS is not allowed");
  }

  @Test
  void publicMaterial_toStringRedactsTheTempCaKey() {
    assertThat(material(Optional.empty()).toString()).doesNotContain("TMP KEY");
  }
}
