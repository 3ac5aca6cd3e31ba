package dev.cvmkms.autheth;

import dev.cvmkms.autheth.cli.ContractsCommand;
import dev.cvmkms.autheth.cli.HealthcheckCommand;
import dev.cvmkms.autheth.cli.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code auth-eth serve} runs the webhook; {@code auth-eth contracts ...} manages the contracts.
 */
@Command(
    name = "auth-eth",
    mixinStandardHelpOptions = true,
    description = "Ethereum-backed boot authorisation webhook for the KMS.",
    subcommands = {ServeCommand.class, ContractsCommand.class, HealthcheckCommand.class})
public final class AuthEthMain implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.err);
  }

  /**
   * Every Jackson parser of the process (Vert.x's JSON included) gets these nesting and length
   * limits, checked while reading, before a value is built. Set before any factory exists.
   */
  static void limitJson() {
    com.fasterxml.jackson.core.StreamReadConstraints.overrideDefaultStreamReadConstraints(
        com.fasterxml.jackson.core.StreamReadConstraints.builder()
            .maxNestingDepth(64)
            .maxStringLength(16 << 20)
            .maxNumberLength(100)
            .build());
  }

  public static void main(String[] args) {
    limitJson();
    int code =
        new CommandLine(new AuthEthMain())
            .setOut(
                new java.io.PrintWriter(System.out, true, java.nio.charset.StandardCharsets.UTF_8))
            .execute(args);
    System.exit(code);
  }
}
