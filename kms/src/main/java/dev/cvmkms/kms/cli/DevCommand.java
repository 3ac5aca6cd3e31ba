package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.KmsRuntime;
import dev.cvmkms.kms.config.AuthApiConfig;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.KmsConfigLoader;
import dev.cvmkms.kms.config.OnboardConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kms dev}: the KMS on this machine with the mock TDX attestation and the dev auth policy,
 * nothing else running. The state dir is the {@code cert_dir}; restarting on it serves the same
 * keys.
 */
@Command(
    name = "dev",
    mixinStandardHelpOptions = true,
    description = "Run the KMS locally with mock attestation and the dev auth policy.")
public final class DevCommand implements Callable<Integer> {
  @Option(
      names = "--state-dir",
      defaultValue = "kms-state",
      description =
          "cert_dir: keys and certificates (dstack file names). Default: ${DEFAULT-VALUE}")
  Path stateDir = Path.of("kms-state");

  @Option(
      names = "--port",
      defaultValue = "8000",
      description = "HTTPS port. Default: ${DEFAULT-VALUE}")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description = "Address to listen on. Default: ${DEFAULT-VALUE}")
  String bind = "127.0.0.1";

  @Option(
      names = "--auth-url",
      paramLabel = "URL",
      description =
          "Ask this auth webhook (e.g. auth-eth) instead of the dev policy; the trusted RPCs then"
              + " self-authorize with the mock attestation.")
  java.net.@Nullable URI authUrl;

  @Option(
      names = "--pccs-url",
      paramLabel = "URL",
      description =
          "Fetch collateral for callers' mock quotes from this PCCS (a PCS stub serving the mock"
              + " PKI's collateral) through the production client and cache, bounded by"
              + " --pccs-deadline.")
  java.net.@Nullable URI pccsUrl;

  @Option(
      names = "--pccs-deadline",
      paramLabel = "DURATION",
      defaultValue = "5s",
      description = "Bound on one collateral fetch, retries included. Default: ${DEFAULT-VALUE}")
  String pccsDeadline = "5s";

  @Option(
      names = "--onboard",
      description =
          "With an empty state dir, first serve the onboarding page and Onboard RPCs on plain"
              + " http://BIND:PORT/ (Bootstrap, or Onboard from another KMS, then Finish) instead"
              + " of bootstrapping at once.")
  boolean onboard;

  @Option(
      names = "--insecure-unsigned-responses",
      description =
          "Serve GetMeta, GetTempCaCert and GetAppEnvEncryptPubKey without X-Kms-Signature"
              + " (the unsigned baseline of kms/bench/getmeta.sh; not offered by serve).")
  boolean unsignedResponses;

  @Override
  public Integer call() throws Exception {
    Path dir = stateDir.toAbsolutePath();
    Files.createDirectories(dir);
    KmsConfig config =
        KmsConfigLoader.withLimitsFromEnv(KmsConfig.forDev(dir, bind, port), System.getenv());
    if (authUrl != null) {
      config = config.withAuthApi(AuthApiConfig.Webhook.at(authUrl), true);
    }
    if (onboard) {
      config = withOnboarding(config, bind, port);
    }
    KmsRuntime.Running running =
        KmsRuntime.start(
            config,
            new KmsRuntime.Options(
                onboard ? Optional.empty() : Optional.of(bootstrapDomain(dir)),
                Optional.of(DevAttestation.mock(Optional.ofNullable(pccsUrl), pccsConfig())),
                !unsignedResponses));
    String host = running.keys().rpcDomain();
    System.out.println("KMS (dev) listening on https://" + host + ":" + running.listener().port());
    System.out.println("root CA: " + dir.resolve("root-ca.crt"));
    System.out.flush();
    return -1;
  }

  private dev.cvmkms.kms.config.PccsConfig pccsConfig() {
    var d = dev.cvmkms.kms.config.PccsConfig.defaults();
    return new dev.cvmkms.kms.config.PccsConfig(
        d.client().withDeadline(dev.cvmkms.kms.config.Durations.parse(pccsDeadline)),
        d.cacheSize(),
        d.refreshAfter(),
        d.failureBackoff());
  }

  /** The onboarding listener on the same address and port, before the HTTPS one opens there. */
  private static KmsConfig withOnboarding(KmsConfig c, String bind, int port) {
    // The audit log and everything else stay where forDev put them (inside the state dir).
    return c.withOnboard(new OnboardConfig(true, "", bind, port));
  }

  /** The domain from a previous {@code rpc-domain}, else localhost. */
  private static String bootstrapDomain(Path dir) throws java.io.IOException {
    Path file = dir.resolve("rpc-domain");
    if (Files.isRegularFile(file)) {
      String d = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (!d.isEmpty()) {
        return d;
      }
    }
    return "localhost";
  }
}
