package dev.cvmkms.autheth.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** A compiled contract shipped in the jar ({@code contracts/build/<name>.json}). */
public record ContractArtifact(String name, String compiler, String bytecode) {
  public static ContractArtifact load(String name) {
    String resource = "/dev/cvmkms/autheth/contracts/" + name + ".json";
    try (InputStream in = ContractArtifact.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing contract artifact " + resource);
      }
      JsonObject json = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      return new ContractArtifact(name, json.getString("compiler"), json.getString("bytecode"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
