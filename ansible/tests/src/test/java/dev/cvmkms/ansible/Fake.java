package dev.cvmkms.ansible;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One of the stdlib-Python fakes in {@code ansible/tests/fakes/} as a child process: started, its
 * URL read from the first stdout line, stopped by PID on close.
 */
final class Fake implements AutoCloseable {
  private final Process process;
  private final String url;

  private Fake(Process process, String url) {
    this.process = process;
    this.url = url;
  }

  static Fake start(Path log, String script, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of("/usr/bin/python3", Ansible.DIR.resolve("tests/fakes/" + script).toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String first;
    try {
      first = CompletableFuture.supplyAsync(() -> readLine(r)).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new AssertionError(script + " did not start", e);
    }
    if (first == null) {
      throw new AssertionError(script + " exited: " + java.nio.file.Files.readString(log));
    }
    return new Fake(p, Json.MAPPER.readTree(first).get("url").asText());
  }

  private static String readLine(BufferedReader r) {
    try {
      return r.readLine();
    } catch (java.io.IOException e) {
      return null;
    }
  }

  String url() {
    return url;
  }

  @Override
  public void close() {
    Stop.process(process, Duration.ofSeconds(10));
  }
}
