package dev.cvmkms.autheth.testing;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * Our contracts deployed on a fresh anvil through the CLI, with one allowed app and one allowed KMS
 * measurement set.
 */
public record ChainFixture(Anvil anvil, String kms, String appImplementation, String appId) {
  public static final String GATEWAY_APP_ID = "gateway-app-id-test";
  public static final String MR = "11".repeat(32);
  public static final String OS_IMAGE = "22".repeat(32);
  public static final String COMPOSE = "44".repeat(32);
  public static final String DEVICE = "66".repeat(32);

  public static ChainFixture deploy(Anvil anvil) throws Exception {
    String rpc = anvil.url();
    JsonObject d = AuthEthJar.contracts(rpc, "deploy", "--gateway-app-id", GATEWAY_APP_ID);
    String kms = d.getString("kmsContractAddr");
    AuthEthJar.contracts(rpc, "allow-os-image", "--kms", kms, "--hash", OS_IMAGE);
    AuthEthJar.contracts(rpc, "allow-kms", "--kms", kms, "--mr", MR, "--device-id", DEVICE);
    String app =
        AuthEthJar.contracts(
                rpc, "deploy-app", "--kms", kms, "--compose-hash", COMPOSE, "--device-id", DEVICE)
            .getString("appId");
    return new ChainFixture(anvil, kms, d.getString("appImplementation"), app);
  }

  /** A BootInfo body in the KMS's style (lower-case hex, no 0x, extra keys) for the allowed app. */
  public JsonObject bootInfo() {
    return new JsonObject()
        .put("teeVariant", "dstack-tdx")
        .put("mrAggregated", MR)
        .put("osImageHash", OS_IMAGE)
        .put("mrSystem", "")
        .put("appId", appId.substring(2).toLowerCase(Locale.ROOT))
        .put("composeHash", COMPOSE)
        .put("instanceId", "")
        .put("deviceId", DEVICE)
        .put("keyProviderInfo", "")
        .put("tcbStatus", "UpToDate")
        .put("advisoryIds", new io.vertx.core.json.JsonArray());
  }
}
