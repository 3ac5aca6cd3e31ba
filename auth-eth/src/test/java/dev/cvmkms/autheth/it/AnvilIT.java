package dev.cvmkms.autheth.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.testing.Anvil;
import dev.cvmkms.autheth.testing.AuthEthJar;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.autheth.testing.ChainFixture;
import dev.cvmkms.autheth.testing.Http;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real jar against a real anvil chain with our contracts deployed by our CLI. */
class AnvilIT {
  static Anvil anvil;
  static ChainFixture chain;
  static AuthEthJar.Server server;

  @BeforeAll
  static void up() throws Exception {
    anvil = Anvil.start();
    chain = ChainFixture.deploy(anvil);
    server =
        AuthEthJar.Server.start(
            Map.of("ETH_RPC_URL", anvil.url(), "KMS_CONTRACT_ADDR", chain.kms()));
  }

  @AfterAll
  static void down() throws Exception {
    try {
      if (server != null) {
        server.close();
        assertThat(BlockedThreadWarnings.blocking(server.stderr())).isEmpty();
        assertThat(server.stderr()).doesNotContain("Exception");
      }
    } finally {
      if (anvil != null) {
        anvil.close();
      }
    }
  }

  static JsonObject boot(String kind, JsonObject body) throws Exception {
    HttpResponse<String> r = Http.postJson(server.url() + "/bootAuth/" + kind, body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).contains("application/json; charset=utf-8");
    JsonObject json = new JsonObject(r.body());
    assertThat(json.fieldNames()).containsExactly("isAllowed", "reason", "gatewayAppId");
    return json;
  }

  static void assertAllowed(JsonObject r) {
    assertThat(r.getBoolean("isAllowed")).as(r.encode()).isTrue();
    assertThat(r.getString("reason")).isEmpty();
    assertThat(r.getString("gatewayAppId")).isEqualTo(ChainFixture.GATEWAY_APP_ID);
  }

  static void assertDenied(JsonObject r, String reason) {
    assertThat(r.getBoolean("isAllowed")).as(r.encode()).isFalse();
    assertThat(r.getString("reason")).isEqualTo(reason);
    assertThat(r.getString("gatewayAppId")).isEqualTo(ChainFixture.GATEWAY_APP_ID);
  }

  @Test
  void getRootReportsTheChainLikeUpstream() throws Exception {
    HttpResponse<String> r = Http.get(server.url() + "/?x=1");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject json = new JsonObject(r.body());
    assertThat(List.copyOf(json.fieldNames()).subList(0, 7))
        .containsExactly(
            "status",
            "kmsContractAddr",
            "ethRpcUrl",
            "gatewayAppId",
            "chainId",
            "appAuthImplementation",
            "appImplementation");
    assertThat(json.getString("status")).isEqualTo("ok");
    assertThat(json.getString("kmsContractAddr")).isEqualTo(chain.kms());
    assertThat(json.getString("ethRpcUrl")).isEqualTo(anvil.url());
    assertThat(json.getString("gatewayAppId")).isEqualTo(ChainFixture.GATEWAY_APP_ID);
    assertThat(json.getValue("chainId")).isEqualTo(31337);
    assertThat(json.getString("appImplementation")).isEqualTo(chain.appImplementation());
    assertThat(json.getString("appAuthImplementation")).isEqualTo(chain.appImplementation());
    assertThat(json.getLong("metadataAgeMs")).isNotNegative();
    HttpResponse<String> head = Http.head(server.url() + "/");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(Http.get(server.url() + "/healthz/ready").statusCode()).isEqualTo(200);
    assertThat(Http.get(server.url() + "/healthz/live").statusCode()).isEqualTo(200);
  }

  @Test
  void allowedAndDeniedApps() throws Exception {
    assertAllowed(boot("app", chain.bootInfo()));
    assertAllowed(boot("app", chain.bootInfo().put("appId", chain.appId()))); // EIP-55 with 0x
    assertDenied(
        boot("app", chain.bootInfo().put("composeHash", "99".repeat(32))),
        "Compose hash not allowed");
    assertDenied(
        boot("app", chain.bootInfo().put("deviceId", "77".repeat(32))), "Device not allowed");
    assertDenied(
        boot("app", chain.bootInfo().put("osImageHash", "33".repeat(32))),
        "OS image is not allowed");
    assertDenied(boot("app", chain.bootInfo().put("appId", "12".repeat(20))), "App not registered");
  }

  @Test
  void allowedAndDeniedKmsInstances() throws Exception {
    assertAllowed(boot("kms", chain.bootInfo()));
    assertDenied(
        boot("kms", chain.bootInfo().put("tcbStatus", "OutOfDate")),
        "TCB status is not up to date");
    assertDenied(
        boot("kms", chain.bootInfo().put("mrAggregated", "0x1234")), "Aggregated MR not allowed");
    assertDenied(
        boot("kms", chain.bootInfo().put("deviceId", "77".repeat(32))),
        "KMS is not allowed to boot on this device");
  }

  @Test
  void revocationTakesEffectOnTheNextRequest() throws Exception {
    String compose = "ab".repeat(32);
    JsonObject body = chain.bootInfo().put("composeHash", compose);
    assertDenied(boot("app", body), "Compose hash not allowed");
    AuthEthJar.contracts(
        anvil.url(), "allow-app", "--app", chain.appId(), "--compose-hash", compose);
    assertAllowed(boot("app", body));
    AuthEthJar.contracts(
        anvil.url(), "revoke-app", "--app", chain.appId(), "--compose-hash", compose);
    assertDenied(boot("app", body), "Compose hash not allowed");

    String mr = "cd".repeat(32);
    JsonObject kmsBody = chain.bootInfo().put("mrAggregated", mr);
    AuthEthJar.contracts(anvil.url(), "allow-kms", "--kms", chain.kms(), "--mr", mr);
    assertAllowed(boot("kms", kmsBody));
    AuthEthJar.contracts(anvil.url(), "revoke-kms", "--kms", chain.kms(), "--mr", mr);
    assertDenied(boot("kms", kmsBody), "Aggregated MR not allowed");
  }

  @Test
  void upstreamErrorContract() throws Exception {
    String app = server.url() + "/bootAuth/app";
    String invalid =
        "{\"isAllowed\":false,\"reason\":\"invalid authorization request\",\"gatewayAppId\":\"\"}";
    String backend = "{\"status\":\"error\",\"message\":\"authorization backend unavailable\"}";
    HttpResponse<String> r = Http.postJson(app, new JsonObject().put("mrAggregated", "0x1234"));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).isEqualTo(invalid);
    r = Http.postJson(app, chain.bootInfo().put("mrAggregated", "11".repeat(33)));
    assertThat(r.statusCode()).isEqualTo(400);
    r = Http.post(app, "application/json", "[]");
    assertThat(r.statusCode()).isEqualTo(400);
    r = Http.post(app, "text/plain", "hello");
    assertThat(r.statusCode()).isEqualTo(400);
    r = Http.post(app, "application/json", "{not json");
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).isEqualTo(backend);
    r = Http.post(app, "application/x-www-form-urlencoded", "a=b");
    assertThat(r.statusCode()).isEqualTo(500);
    // Mixed-case address with a bad checksum: upstream fails before any call, with a 200.
    String bad =
        chain.appId().substring(0, 2)
            + swapCase(chain.appId().substring(2, 3))
            + chain.appId().substring(3);
    if (!bad.equals(chain.appId())
        && !bad.substring(2).equals(bad.substring(2).toLowerCase(Locale.ROOT))) {
      JsonObject j = new JsonObject(Http.postJson(app, chain.bootInfo().put("appId", bad)).body());
      assertThat(j.encode())
          .isEqualTo(
              "{\"isAllowed\":false,\"reason\":\"authorization backend unavailable\",\"gatewayAppId\":\"\"}");
    }
    r = Http.get(server.url() + "/nope");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body())
        .isEqualTo(
            "{\"message\":\"Route GET:/nope not found\",\"error\":\"Not Found\",\"statusCode\":404}");
    assertThat(Http.post(server.url() + "/bootAuth/app/", "application/json", "{}").statusCode())
        .isEqualTo(404);
    assertThat(Http.post(server.url() + "/", "application/json", "{}").statusCode()).isEqualTo(404);
    assertThat(Http.get(server.url() + "/bootAuth/app").statusCode()).isEqualTo(404);
  }

  private static String swapCase(String c) {
    return c.equals(c.toUpperCase(Locale.ROOT))
        ? c.toLowerCase(Locale.ROOT)
        : c.toUpperCase(Locale.ROOT);
  }

  @Test
  void chainIdPinDeniesOnAnotherChain() throws Exception {
    try (var pinned =
        AuthEthJar.Server.start(
            Map.of(
                "ETH_RPC_URL",
                anvil.url(),
                "KMS_CONTRACT_ADDR",
                chain.kms(),
                "ETH_CHAIN_ID",
                "1"))) {
      JsonObject r =
          new JsonObject(Http.postJson(pinned.url() + "/bootAuth/app", chain.bootInfo()).body());
      assertThat(r.getBoolean("isAllowed")).isFalse();
      assertThat(r.getString("reason")).isEqualTo("authorization backend unavailable");
      assertThat(Http.get(pinned.url() + "/healthz/ready").statusCode()).isEqualTo(503);
      assertThat(Http.get(pinned.url() + "/metrics").body())
          .contains("autheth_chain_id_mismatch 1.0");
      assertThat(pinned.stderr()).contains("differs from ETH_CHAIN_ID");
    }
  }

  @Test
  void confirmationsHideChangesUntilTheyAreDeepEnough() throws Exception {
    String compose = "ef".repeat(32);
    JsonObject body = chain.bootInfo().put("composeHash", compose);
    try (var confirmed =
        AuthEthJar.Server.start(
            Map.of(
                "ETH_RPC_URL",
                anvil.url(),
                "KMS_CONTRACT_ADDR",
                chain.kms(),
                "ETH_FINALITY",
                "3"))) {
      AuthEthJar.contracts(
          anvil.url(), "allow-app", "--app", chain.appId(), "--compose-hash", compose);
      JsonObject r = new JsonObject(Http.postJson(confirmed.url() + "/bootAuth/app", body).body());
      assertThat(r.getString("reason")).isEqualTo("Compose hash not allowed");
      Http.rpc(anvil.url(), "anvil_mine", "[\"0x3\"]");
      r = new JsonObject(Http.postJson(confirmed.url() + "/bootAuth/app", body).body());
      assertThat(r.getBoolean("isAllowed")).as(r.encode()).isTrue();
    }
  }
}
