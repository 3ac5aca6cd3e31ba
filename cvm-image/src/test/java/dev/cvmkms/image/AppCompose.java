package dev.cvmkms.image;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs cvm-image/app-compose.sh. */
final class AppCompose {
  private AppCompose() {}

  static Cmd run(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.home().resolve("app-compose.sh").toString());
    cmd.addAll(List.of(args));
    Map<String, String> e = new HashMap<>();
    // Only what the test gives: no KMS_IMAGE etc. leaking in from the developer's shell.
    for (String k :
        List.of(
            "KMS_IMAGE",
            "AUTH_ETH_IMAGE",
            "ETH_RPC_URL",
            "KMS_CONTRACT_ADDR",
            "ETH_CHAIN_ID",
            "KMS_AUTO_BOOTSTRAP_DOMAIN",
            "KMS_PORT",
            "AUTH_ETH_PORT",
            "DSTACK_SOCK",
            "TSM_CONFIGFS")) {
      e.put(k, null);
    }
    e.putAll(env);
    return run(e, cmd);
  }

  private static Cmd run(Map<String, String> env, List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(Paths.repo().toFile());
    env.forEach(
        (k, v) -> {
          if (v == null) {
            pb.environment().remove(k);
          } else {
            pb.environment().put(k, v);
          }
        });
    Path out = java.nio.file.Files.createTempFile("app-compose", ".out");
    Path err = java.nio.file.Files.createTempFile("app-compose", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    try {
      if (!p.waitFor(
          Duration.ofMinutes(2).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("app-compose.sh did not finish");
      }
      return new Cmd(
          p.exitValue(), java.nio.file.Files.readString(out), java.nio.file.Files.readString(err));
    } finally {
      java.nio.file.Files.deleteIfExists(out);
      java.nio.file.Files.deleteIfExists(err);
    }
  }
}
