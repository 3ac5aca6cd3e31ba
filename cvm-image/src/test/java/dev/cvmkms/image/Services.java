package dev.cvmkms.image;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The two images run as a CVM runs them: host network, loopback ports, the KMS's cert_dir on a
 * named volume. Readiness is the image's own HEALTHCHECK (Testcontainers waits for "healthy").
 */
final class Services {
  /** The services' last log line on a clean stop (phased shutdown). */
  static final Pattern SHUTDOWN_LINE = Pattern.compile(".*shutdown complete( with warning: .*)?$");

  /** docker stop's grace period, as in docker-compose.yaml's stop_grace_period. */
  static final int GRACE_SECONDS = 30;

  static final Duration HEALTHY_WITHIN = Duration.ofMinutes(3);

  private Services() {}

  static GenericContainer<?> authEth(Chain chain, int port) {
    return new GenericContainer<>(DockerImageName.parse(TestImages.AUTH_ETH))
        .withNetworkMode("host")
        .withEnv("HOST", "127.0.0.1")
        .withEnv("PORT", String.valueOf(port))
        .withEnv("ETH_RPC_URL", chain.anvil().url())
        .withEnv("KMS_CONTRACT_ADDR", chain.fixture().kms())
        .withEnv("ETH_CHAIN_ID", "31337")
        .waitingFor(Wait.forHealthcheck().withStartupTimeout(HEALTHY_WITHIN));
  }

  /**
   * {@code kms dev} with the mock attestation, asking auth-eth; state in {@code volume}. The {@code
   * KMS__RPC__*} variables tell the image's healthcheck (which reads kms.toml plus overrides) where
   * this listener is.
   */
  static GenericContainer<?> kmsDev(String volume, int port, int authEthPort) {
    return new GenericContainer<>(DockerImageName.parse(TestImages.KMS))
        .withNetworkMode("host")
        .withEnv("KMS__RPC__ADDRESS", "127.0.0.1")
        .withEnv("KMS__RPC__PORT", String.valueOf(port))
        .withCommand(
            "dev",
            "--state-dir",
            "/etc/kms/certs",
            "--bind",
            "127.0.0.1",
            "--port",
            String.valueOf(port),
            "--auth-url",
            "http://127.0.0.1:" + authEthPort)
        .withCreateContainerCmdModifier(
            cmd -> cmd.getHostConfig().withBinds(new Bind(volume, new Volume("/etc/kms/certs"))))
        .waitingFor(Wait.forHealthcheck().withStartupTimeout(HEALTHY_WITHIN));
  }

  static DockerClient docker() {
    return DockerClientFactory.instance().client();
  }

  static String health(GenericContainer<?> c) {
    InspectContainerResponse.ContainerState s =
        docker().inspectContainerCmd(c.getContainerId()).exec().getState();
    return s.getHealth() == null ? "none" : s.getHealth().getStatus();
  }

  /** What {@code docker stop} left behind. */
  record Stopped(long exitCode, boolean oomKilled, String logs) {
    /** The last {@code n} log lines, for failure messages. */
    String tail(int n) {
      List<String> lines = logs.lines().toList();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    String lastLine() {
      List<String> lines = logs.lines().filter(l -> !l.isBlank()).toList();
      return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
  }

  /** {@code docker stop -t 30}: SIGTERM (the image's STOPSIGNAL), SIGKILL after the grace. */
  static Stopped dockerStop(GenericContainer<?> c) {
    String id = c.getContainerId();
    docker().stopContainerCmd(id).withTimeout(GRACE_SECONDS).exec();
    InspectContainerResponse.ContainerState s = docker().inspectContainerCmd(id).exec().getState();
    Stopped st =
        new Stopped(
            s.getExitCodeLong() == null ? -1 : s.getExitCodeLong(),
            Boolean.TRUE.equals(s.getOOMKilled()),
            c.getLogs());
    c.stop(); // removes it
    return st;
  }

  static String newVolume(String prefix) {
    String name = prefix + "-" + Long.toHexString(System.nanoTime());
    docker().createVolumeCmd().withName(name).exec();
    return name;
  }

  static void removeVolume(String name) {
    if (name != null) {
      docker().removeVolumeCmd(name).exec();
    }
  }
}
