package dev.cvmkms.autheth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed artifacts were built from the committed sources (by hash; ContractsCompileIT
 * recompiles with solc-js and compares bytes) and are the ones packaged for the CLI.
 */
class ContractArtifactTest {
  static final Path CONTRACTS = Path.of(System.getProperty("autheth.home", "."), "contracts");

  @Test
  void artifactsRecordTheHashesOfTheCurrentSources() throws Exception {
    for (String name : new String[] {"DstackKms", "DstackApp"}) {
      JsonObject a = new JsonObject(Files.readString(CONTRACTS.resolve("build/" + name + ".json")));
      JsonObject hashes = a.getJsonObject("sourceHashes");
      try (Stream<Path> files = Files.list(CONTRACTS.resolve("src"))) {
        var sol = files.filter(p -> p.toString().endsWith(".sol")).toList();
        assertThat(hashes.fieldNames()).hasSize(sol.size());
        for (Path p : sol) {
          String sha =
              HexFormat.of()
                  .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
          assertThat(hashes.getString(p.getFileName().toString()))
              .as(
                  "%s changed since build/%s.json was compiled: run npm run compile --prefix auth-eth",
                  p, name)
              .isEqualTo(sha);
        }
      }
      assertThat(a.getString("compiler")).startsWith("solc-js 0.8.28+commit.7893614a");
      assertThat(ContractArtifact.load(name).bytecode())
          .isEqualTo(a.getString("bytecode"))
          .startsWith("0x60");
    }
  }

  @Test
  void kmsAbiHasTheSelectorsAuthEthCalls() throws Exception {
    JsonObject ids =
        new JsonObject(Files.readString(CONTRACTS.resolve("build/DstackKms.json")))
            .getJsonObject("methodIdentifiers");
    assertThat(
            ids.getString(
                "isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))"))
        .isEqualTo("1e079198");
    assertThat(
            ids.getString(
                "isKmsAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))"))
        .isEqualTo("e067ec9d");
    assertThat(ids.getString("gatewayAppId()")).isEqualTo("95f51931");
    assertThat(ids.getString("appImplementation()")).isEqualTo("25a992da");
    assertThat(ids.getString("deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)"))
        .isEqualTo("9cb9c31f");
  }
}
