package dev.cvmkms.kms;

import dev.cvmkms.kms.cli.DevCommand;
import dev.cvmkms.kms.cli.GetKeysCommand;
import dev.cvmkms.kms.cli.HealthcheckCommand;
import dev.cvmkms.kms.cli.QuoteCommand;
import dev.cvmkms.kms.cli.ServeCommand;
import dev.cvmkms.kms.cli.VerifyQuoteCommand;
import dev.cvmkms.kms.cli.VerifyResponseCommand;
import java.nio.charset.StandardCharsets;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code kms} command: the service ({@code serve}, {@code dev}) and client/debug commands. */
@Command(
    name = "kms",
    mixinStandardHelpOptions = true,
    versionProvider = KmsVersion.class,
    description = "dstack-compatible key management service for TDX CVMs",
    subcommands = {
      ServeCommand.class,
      DevCommand.class,
      QuoteCommand.class,
      VerifyQuoteCommand.class,
      VerifyResponseCommand.class,
      GetKeysCommand.class,
      HealthcheckCommand.class
    })
public final class KmsMain {
  private KmsMain() {}

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
        sb.append(": ").append(c.getMessage());
      }
    }
    return sb.toString();
  }

  /**
   * JDK TLS serves client-initiated renegotiation by default (TLS 1.2): each one costs the server a
   * full handshake, so one connection could make it do handshakes forever. The switch is read once,
   * when the TLS stack first initializes, hence here before anything else.
   */
  static void hardenTls() {
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
  }

  /**
   * Every Jackson parser of the process (attestation documents, event logs, the guest agent's and
   * the webhook's answers) gets these nesting and length limits, checked while reading, before a
   * value is built; the pRPC reader has tighter ones of its own. Set before any factory exists.
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
    hardenTls();
    limitJson();
    CommandLine cli = new CommandLine(new KmsMain());
    // Errors go to stderr; stdout carries only each command's one document.
    cli.setErr(new java.io.PrintWriter(System.err, true, StandardCharsets.UTF_8));
    // A failed start prints one clear line (the messages name the key, file or step), no trace.
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          LoggerFactory.getLogger(KmsMain.class).debug("command failed", e);
          cmd.getErr().println("kms: " + describe(e));
          return 1;
        });
    int code = cli.execute(args);
    // Long-running commands return -1 and keep the JVM alive on Vert.x threads.
    if (code >= 0) {
      System.exit(code);
    }
  }
}
