package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.KmsRuntime;
import dev.cvmkms.kms.config.ConfigCheck;
import dev.cvmkms.kms.config.ConfigException;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.KmsConfigLoader;
import dev.cvmkms.kms.keys.FileKeyStore;
import dev.cvmkms.kms.keys.KeyStore;
import dev.cvmkms.kms.service.KmsAttestation;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kms serve --config kms.toml}: the production service. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Run the KMS from a kms.toml (environment overrides: KMS__SECTION__KEY).")
public final class ServeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

  @Option(
      names = {"-c", "--config"},
      required = true,
      description = "Path to kms.toml.")
  Path config = Path.of(""); // required: picocli always sets it

  @Option(
      names = "--allow-insecure",
      description = "Start even when the config enables settings that weaken security.")
  boolean allowInsecure;

  @Option(
      names = "--check-config",
      description =
          "Load and validate the config, print the effective settings (secrets redacted) and the"
              + " ignored/retired upstream keys, and exit 0 (would start) or 1 without starting.")
  boolean checkConfig;

  @Spec CommandSpec spec;

  /** Environment for the config (tests replace it). */
  Map<String, String> env = System.getenv();

  @Override
  public Integer call() throws Exception {
    if (checkConfig) {
      return check();
    }
    ConfigCheck check = KmsConfigLoader.check(config, env);
    KmsConfig cfg = check.config();
    ConfigReport.logUpstreamKeys(check, LOG);
    // The onboarding phase (an empty cert_dir, no auto_bootstrap_domain) attests too: its
    // self-authorization, the key attestation and the RA-TLS client certificate.
    boolean onboards =
        cfg.onboard().enabled()
            && cfg.onboard().autoBootstrapDomain().isBlank()
            && new FileKeyStore(cfg.certDir()).state() == KeyStore.State.EMPTY;
    boolean attests = cfg.attestRpcCert() || cfg.enforceSelfAuthorization() || onboards;
    Optional<KmsAttestation> attestation =
        attests ? Optional.of(CvmAttestation.fromConfig(cfg, env)) : Optional.empty();
    // The production profile: every offence at once, before any listener opens.
    List<ProductionProfile.Offence> offences = ProductionProfile.check(cfg, attestation);
    if (!offences.isEmpty()) {
      boolean refuse = !allowInsecure || ProductionProfile.anyUnallowable(offences);
      if (refuse) {
        StringBuilder msg =
            new StringBuilder(
                "refusing to start: "
                    + offences.size()
                    + " setting(s) not allowed under `kms serve`:");
        offences.forEach(o -> msg.append("\n  - ").append(o.line()));
        LOG.error("{}", msg);
        return 2;
      }
      offences.forEach(o -> LOG.warn("INSECURE setting enabled: {}", o.setting()));
    }
    KmsRuntime.start(
        cfg,
        new KmsRuntime.Options(
            Optional.of(cfg.onboard().autoBootstrapDomain()).filter(d -> !d.isBlank()),
            attestation));
    return -1;
  }

  private int check() {
    ConfigCheck check;
    try {
      check = KmsConfigLoader.check(config, env);
    } catch (ConfigException e) {
      spec.commandLine().getOut().println("result: INVALID, " + e.getMessage());
      spec.commandLine().getOut().flush();
      spec.commandLine().getErr().println("kms: " + e.getMessage());
      return 1;
    }
    return ConfigReport.print(check, config.toString(), allowInsecure, spec.commandLine().getOut())
        ? 0
        : 1;
  }
}
