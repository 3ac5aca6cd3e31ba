package dev.cvmkms.kms.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.QuoteProvider;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.tsm.ConfigfsQuoteProvider;
import dev.cvmkms.kms.attestation.tsm.NioTsmFs;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kms quote}: makes a TDX quote. Without {@code --out} the quote is printed as hex; with it
 * the binary goes to the file and a JSON summary is printed. Logs go to stderr.
 */
@Command(
    name = "quote",
    mixinStandardHelpOptions = true,
    description = "Make a TDX quote over the given report data (zero-padded to 64 bytes).")
public final class QuoteCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(QuoteCommand.class);

  /** Which quote source to use. */
  public enum Provider {
    configfs,
    agent,
    mock
  }

  @Spec CommandSpec spec;

  @Option(
      names = "--report-data",
      required = true,
      paramLabel = "HEX",
      description = "Up to 64 bytes of hex; zero-padded to 64.")
  String reportDataHex = ""; // required: picocli always sets it

  @Option(
      names = "--provider",
      defaultValue = "configfs",
      description =
          "configfs (Linux configfs-tsm), agent (dstack guest agent) or mock. Default:"
              + " ${DEFAULT-VALUE}.")
  Provider provider = Provider.configfs;

  @Option(names = "--out", paramLabel = "FILE", description = "Write the binary quote here.")
  @Nullable Path out;

  // A container cannot mount onto /sys/kernel/config where the host kernel lacks configfs, so
  // the image takes the tsm tree at another path (cvm-image mounts it at /run/tsm).
  @Option(
      names = "--tsm-report-dir",
      paramLabel = "DIR",
      defaultValue = "${env:TSM_REPORT_DIR:-/sys/kernel/config/tsm/report}",
      description = "configfs-tsm report directory (env TSM_REPORT_DIR). Default: ${DEFAULT-VALUE}")
  Path tsmReportDir = Path.of("/sys/kernel/config/tsm/report"); // defaultValue (env first) wins

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    byte[] rd;
    try {
      rd = Bytes.unhex(reportDataHex, "report data");
    } catch (AttestationException e) {
      spec.commandLine().getErr().println("--report-data is not hex");
      return 2;
    }
    if (rd.length > 64) {
      spec.commandLine().getErr().println("--report-data is longer than 64 bytes");
      return 2;
    }
    byte[] padded = java.util.Arrays.copyOf(rd, 64);
    QuoteProvider p =
        switch (provider) {
          case configfs -> new ConfigfsQuoteProvider(new NioTsmFs(tsmReportDir));
          case agent ->
              CvmAttestation.guestAgent(
                  System.getenv(),
                  dev.cvmkms.kms.config.AttestationConfig.guestAgentDefaults(),
                  new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                  java.time.Clock.systemUTC());
          case mock -> {
            LOG.warn("using the MOCK TDX quote provider: the quote proves nothing");
            yield MockTdx.create(Instant.now());
          }
        };
    byte[] quote;
    try {
      quote = p.quote(padded);
    } catch (AttestationException e) {
      spec.commandLine().getErr().println("quote failed: " + e.getMessage());
      return 1;
    }
    if (out == null) {
      stdout.println(Bytes.hex(quote));
    } else {
      Files.write(out, quote);
      ObjectNode o = new ObjectMapper().createObjectNode();
      o.put("provider", p.name());
      o.put("out", out.toString());
      o.put("size", quote.length);
      o.put("reportData", Bytes.hex(padded));
      stdout.println(o.toPrettyString());
    }
    stdout.flush();
    return 0;
  }
}
