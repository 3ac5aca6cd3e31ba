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

  public static void main(String[] args) {
    int code =
        new CommandLine(new AuthEthMain())
            .setOut(new java.io.PrintWriter(System.out, true))
            .execute(args);
    System.exit(code);
  }
}
