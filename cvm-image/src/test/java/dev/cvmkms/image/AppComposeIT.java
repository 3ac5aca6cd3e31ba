package dev.cvmkms.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * app-compose.sh: the manifest dstack measures, its canonical bytes, and the compose hash printed
 * for them (sha256 of exactly those bytes, as the VMM's GetComposeHash and the SDKs compute it).
 */
class AppComposeIT {
  static final String KMS_REF = "registry.example/cvm-kms/kms@sha256:" + "a1".repeat(32);
  static final String AUTH_REF = "registry.example/cvm-kms/auth-eth@sha256:" + "b2".repeat(32);
  static final String CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

  /** Sorted keys at every level, compact separators, non-ASCII as UTF-8 (not \\u escapes). */
  static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .build();

  @TempDir Path tmp;

  private Map<String, String> env() {
    return Map.of(
        "ETH_RPC_URL", "https://rpc.example/",
        "KMS_CONTRACT_ADDR", CONTRACT,
        "ETH_CHAIN_ID", "11155111",
        // Non-ASCII must reach the file as UTF-8, unescaped, as dstack's tools write it.
        "KMS_AUTO_BOOTSTRAP_DOMAIN", "kms.bücher.example");
  }

  private Cmd render(Path out, String kms, String auth) throws Exception {
    return AppCompose.run(
        env(), "--kms-image", kms, "--auth-eth-image", auth, "--out", out.toString());
  }

  static String sha256Hex(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  @Test
  void printsTheSha256OfTheCanonicalManifest_asItsOnlyStdoutLine() throws Exception {
    Cmd r = render(tmp, KMS_REF, AUTH_REF);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).matches("[0-9a-f]{64}\n");
    byte[] file = Files.readAllBytes(tmp.resolve("app-compose.json"));
    assertThat(r.out().strip()).isEqualTo(sha256Hex(file));

    // Canonical: re-serialising the parsed document with sorted keys and no whitespace gives
    // the same bytes.
    JsonNode doc = CANONICAL.readTree(file);
    Object asMap = CANONICAL.convertValue(doc, TreeMap.class);
    assertThat(new String(CANONICAL.writeValueAsBytes(asMap), StandardCharsets.UTF_8))
        .isEqualTo(new String(file, StandardCharsets.UTF_8));
    assertThat(new String(file, StandardCharsets.UTF_8)).doesNotContain("\\u00fc");
    assertThat(new String(file, StandardCharsets.UTF_8)).contains("kms.bücher.example");
    assertThat(file[file.length - 1]).as("no trailing newline").isEqualTo((byte) '}');

    // dstack's app-compose fields for a KMS CVM (deployment.md §1.4).
    assertThat(doc.get("manifest_version").asInt()).isEqualTo(2);
    assertThat(doc.get("runner").asText()).isEqualTo("docker-compose");
    assertThat(doc.get("name").asText()).isEqualTo("kms");
    assertThat(doc.get("kms_enabled").asBoolean()).isFalse();
    assertThat(doc.get("gateway_enabled").asBoolean()).isFalse();
    assertThat(doc.get("local_key_provider_enabled").asBoolean()).isTrue();
    assertThat(doc.get("allowed_envs").isArray() && doc.get("allowed_envs").isEmpty()).isTrue();
    assertThat(doc.get("no_instance_id").asBoolean()).isTrue();
    assertThat(doc.has("bash_script")).isFalse();
    assertThat(doc.has("pre_launch_script")).isFalse();

    // The embedded compose is rendered: the hash pins every value it runs with.
    String compose = doc.get("docker_compose_file").asText();
    assertThat(compose).doesNotContain("${");
    assertThat(compose).contains("image: " + KMS_REF).contains("image: " + AUTH_REF);
    assertThat(compose)
        .contains("ETH_RPC_URL: \"https://rpc.example/\"")
        .contains("KMS_CONTRACT_ADDR: \"" + CONTRACT + "\"")
        .contains("ETH_CHAIN_ID: \"11155111\"")
        .contains("KMS__CORE__AUTH_API__WEBHOOK__URL: \"http://127.0.0.1:8001\"")
        .contains("/var/run/dstack.sock:/var/run/dstack.sock")
        .contains("./auth-eth.secrets.env");
  }

  @Test
  void theHashIsStable_andChangesWithAnyImage() throws Exception {
    String first = render(tmp.resolve("a"), KMS_REF, AUTH_REF).ok("render a").out().strip();
    String again = render(tmp.resolve("b"), KMS_REF, AUTH_REF).ok("render b").out().strip();
    assertThat(again).isEqualTo(first);
    assertThat(Files.readAllBytes(tmp.resolve("b/app-compose.json")))
        .isEqualTo(Files.readAllBytes(tmp.resolve("a/app-compose.json")));
    String otherKms =
        render(tmp.resolve("c"), KMS_REF.replace("a1a1", "a1a2"), AUTH_REF).ok("c").out().strip();
    String otherAuth =
        render(tmp.resolve("d"), KMS_REF, AUTH_REF.replace("b2b2", "b2b3")).ok("d").out().strip();
    assertThat(otherKms).isNotEqualTo(first);
    assertThat(otherAuth).isNotEqualTo(first).isNotEqualTo(otherKms);
  }

  @Test
  void aDollarInAValueStaysLiteral_forTheComposeInsideTheCvm() throws Exception {
    Map<String, String> env = new java.util.HashMap<>(env());
    env.put("ETH_RPC_URL", "https://rpc.example/?a=$HOME");
    Cmd r =
        AppCompose.run(
            env, "--kms-image", KMS_REF, "--auth-eth-image", AUTH_REF, "--out", tmp.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    String compose =
        CANONICAL
            .readTree(tmp.resolve("app-compose.json").toFile())
            .get("docker_compose_file")
            .asText();
    assertThat(compose).contains("ETH_RPC_URL: \"https://rpc.example/?a=$$HOME\"");
  }

  @Test
  void aMissingRequiredValue_failsClearly_andWritesNothing() throws Exception {
    Cmd r =
        AppCompose.run(
            Map.of("KMS_CONTRACT_ADDR", CONTRACT),
            "--kms-image",
            KMS_REF,
            "--auth-eth-image",
            AUTH_REF,
            "--out",
            tmp.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("ETH_RPC_URL");
    assertThat(tmp.resolve("app-compose.json")).doesNotExist();
  }

  @Test
  void aValueThatWouldBreakTheYaml_isRefused() throws Exception {
    Map<String, String> env = new java.util.HashMap<>(env());
    env.put("ETH_RPC_URL", "https://rpc.example/\"\nevil: 1");
    Cmd r =
        AppCompose.run(
            env, "--kms-image", KMS_REF, "--auth-eth-image", AUTH_REF, "--out", tmp.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("ETH_RPC_URL must not contain");
    assertThat(tmp.resolve("app-compose.json")).doesNotExist();
  }

  @Test
  void aTagInsteadOfADigest_isWarnedAbout() throws Exception {
    Cmd r = render(tmp, "cvm-kms/kms:latest", AUTH_REF);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).contains("KMS_IMAGE=cvm-kms/kms:latest is not pinned by digest");
    assertThat(r.out()).matches("[0-9a-f]{64}\n");
  }
}
