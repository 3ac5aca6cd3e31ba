package dev.cvmkms.autheth.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the built {@code auth-eth.jar}: CLI commands, and {@code serve} as a child process. */
public final class AuthEthJar {
  private AuthEthJar() {}

  public static Path jar() {
    Path jar = Path.of(System.getProperty("autheth.jar", "target/auth-eth.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("build the jar first (mvn package): " + jar);
    }
    return jar;
  }

  static List<String> java(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-XX:TieredStopAtLevel=1"); // CLI runs are short: start fast
    cmd.add("-jar");
    cmd.add(jar().toString());
    cmd.addAll(args);
    return cmd;
  }

  /** Runs {@code auth-eth contracts ...} and returns its one JSON document; fails on exit != 0. */
  public static JsonObject contracts(String rpcUrl, String... args) throws Exception {
    List<String> a = new ArrayList<>(List.of("contracts"));
    a.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(java(a));
    pb.environment().put("ETH_RPC_URL", rpcUrl);
    pb.environment().put("ETH_PRIVATE_KEY", Anvil.DEPLOYER_KEY);
    Path err = Files.createTempFile("autheth-cli", ".err");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("contracts " + args[0] + " timed out");
    }
    String stderr = Files.readString(err);
    Files.deleteIfExists(err);
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          "contracts " + String.join(" ", args) + " exited " + p.exitValue() + ": " + stderr);
    }
    return new JsonObject(out);
  }

  /** A running {@code auth-eth serve}; stdout and stderr go to files kept for inspection. */
  public static final class Server implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on [^:]+:(\\d+)");
    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final int port;

    private Server(Process process, Path stdout, Path stderr, int port) {
      this.process = process;
      this.stdout = stdout;
      this.stderr = stderr;
      this.port = port;
    }

    public static Server start(Map<String, String> env) throws Exception {
      Path out = Files.createTempFile("autheth-serve", ".out");
      Path err = Files.createTempFile("autheth-serve", ".err");
      ProcessBuilder pb = new ProcessBuilder(java(List.of("serve")));
      pb.environment()
          .keySet()
          .removeIf(k -> k.startsWith("ETH_") || k.equals("KMS_CONTRACT_ADDR"));
      pb.environment().put("HOST", "127.0.0.1");
      pb.environment().put("PORT", "0");
      pb.environment().putAll(env);
      pb.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process p = pb.start();
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < until && p.isAlive()) {
        Matcher m = LISTENING.matcher(Files.readString(err));
        if (m.find()) {
          return new Server(p, out, err, Integer.parseInt(m.group(1)));
        }
        Thread.sleep(50);
      }
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      throw new IllegalStateException("auth-eth did not start: " + Files.readString(err));
    }

    public String url() {
      return "http://127.0.0.1:" + port;
    }

    public String stdout() throws IOException {
      return Files.readString(stdout);
    }

    public String stderr() throws IOException {
      return Files.readString(stderr);
    }

    public boolean isAlive() {
      return process.isAlive();
    }

    public long pid() {
      return process.pid();
    }

    public int port() {
      return port;
    }

    public Process process() {
      return process;
    }

    @Override
    public void close() {
      ChildProcess.stop(process, Duration.ofSeconds(15)); // SIGTERM first: the graceful path
    }
  }
}
