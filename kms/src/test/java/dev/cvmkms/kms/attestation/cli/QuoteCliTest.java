package dev.cvmkms.kms.attestation.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.Vectors;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.cli.QuoteCommand;
import dev.cvmkms.kms.cli.VerifyQuoteCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The two CLI commands: one document on stdout, exit codes as documented. */
class QuoteCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Run(int code, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  private static Run run(Object command, String... args) {
    CommandLine cl = new CommandLine(command);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void verifiesTheDcapQvlSampleAtItsDate(@TempDir Path dir) throws Exception {
    Path q = dir.resolve("q.bin");
    Files.write(q, Vectors.bytes("dcap-qvl/tdx_quote.bin"));
    Path c = dir.resolve("c.json");
    Files.writeString(c, Vectors.text("dcap-qvl/tdx_quote_collateral.json"));
    Run r =
        run(
            new VerifyQuoteCommand(),
            q.toString(),
            "--collateral",
            c.toString(),
            "--at",
            String.valueOf(Vectors.windowMiddle(0).getEpochSecond()));
    assertThat(r.code()).isZero();
    JsonNode j = r.json();
    assertThat(j.get("verdict").asText()).isEqualTo("valid");
    assertThat(j.get("tcbStatus").asText()).isEqualTo("UpToDate");
    assertThat(j.get("quote").get("mrTd").asText()).hasSize(96);

    Run iso =
        run(
            new VerifyQuoteCommand(),
            q.toString(),
            "--collateral",
            c.toString(),
            "--at",
            Vectors.windowMiddle(0).toString());
    assertThat(iso.code()).isZero();
  }

  @Test
  void aHangingPccs_givesAClearErrorWithinTheDeadline(@TempDir Path dir) throws Exception {
    Path q = dir.resolve("q.bin");
    Files.write(q, Vectors.bytes("dcap-qvl/tdx_quote.bin"));
    try (var pccs =
        dev.cvmkms.kms.upstream.FaultyPccs.start(java.net.URI.create("http://127.0.0.1:9"))) {
      pccs.mode(dev.cvmkms.kms.upstream.FaultyPccs.Mode.HANG);
      long t0 = System.nanoTime();
      Run r =
          run(
              new VerifyQuoteCommand(),
              q.toString(),
              "--pccs",
              pccs.uri().toString(),
              "--pccs-deadline",
              "1s",
              "--at",
              String.valueOf(Vectors.windowMiddle(0).getEpochSecond()));
      long tookMs = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.code()).isEqualTo(1);
      JsonNode j = r.json();
      assertThat(j.get("verdict").asText()).isEqualTo("invalid");
      assertThat(j.get("reason").asText()).isEqualTo("COLLATERAL_UNAVAILABLE");
      assertThat(j.get("error").asText()).contains("pccs GET").contains("timed out");
      assertThat(tookMs).as("deadline 1 s plus slack").isLessThan(6_000);
      // 4 GETs, each at most 1 + max_retries attempts (a cold client on a loaded machine may send
      // fewer before the deadline).
      assertThat(pccs.total()).as(r.out() + r.err()).isLessThanOrEqualTo(12);
    }
  }

  @Test
  void invalidQuoteExitsOneWithTheReason(@TempDir Path dir) throws Exception {
    Path q = dir.resolve("q.hex");
    Files.writeString(q, Bytes.hex(Vectors.bytes("dcap-qvl/tdx_quote_outdated.bin")) + "\n");
    Path c = dir.resolve("c.json");
    Files.writeString(c, Vectors.text("dcap-qvl/tdx_quote_outdated_collateral.json"));
    Run r =
        run(
            new VerifyQuoteCommand(),
            q.toString(),
            "--collateral",
            c.toString(),
            "--at",
            Vectors.windowMiddle(2).toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.json().get("verdict").asText()).isEqualTo("invalid");
    assertThat(r.json().get("reason").asText()).isEqualTo("TCB_NOT_SUPPORTED");
  }

  @Test
  void badArgumentsExitTwo(@TempDir Path dir) throws Exception {
    Path q = dir.resolve("q.bin");
    Files.write(q, new byte[] {1, 2, 3});
    assertThat(run(new VerifyQuoteCommand(), q.toString(), "--at", "yesterday").code())
        .isEqualTo(2);
    assertThat(run(new QuoteCommand(), "--report-data", "zz", "--provider", "mock").code())
        .isEqualTo(2);
    assertThat(
            run(new QuoteCommand(), "--report-data", "00".repeat(65), "--provider", "mock").code())
        .isEqualTo(2);
  }

  @Test
  void mockQuoteRoundTripsThroughTheCli(@TempDir Path dir) throws Exception {
    Path q = dir.resolve("mock.bin");
    Run made =
        run(
            new QuoteCommand(),
            "--report-data",
            "c0ffee",
            "--provider",
            "mock",
            "--out",
            q.toString());
    assertThat(made.code()).isZero();
    assertThat(made.json().get("size").asInt()).isEqualTo(Files.size(q));
    assertThat(Bytes.hex(TdxQuote.parse(Files.readAllBytes(q)).body().reportData()))
        .startsWith("c0ffee00");

    Run v = run(new VerifyQuoteCommand(), q.toString(), "--mock");
    assertThat(v.code()).isZero();
    assertThat(v.json().get("tcbStatus").asText()).isEqualTo("UpToDate");
    assertThat(v.json().get("trustAnchor").asText()).startsWith("INSECURE");

    // under the pinned Intel root the same quote is refused
    Path c = dir.resolve("c.json");
    Files.writeString(
        c,
        dev.cvmkms.kms.attestation.mock.MockTdx.create(java.time.Instant.now())
            .collateral()
            .toJson());
    assertThat(run(new VerifyQuoteCommand(), q.toString(), "--collateral", c.toString()).code())
        .isEqualTo(1);

    Run hex = run(new QuoteCommand(), "--report-data", "01", "--provider", "mock");
    assertThat(hex.code()).isZero();
    assertThat(hex.out().trim()).matches("[0-9a-f]+");
    assertThat(hex.out().trim().lines().count()).isEqualTo(1);
  }
}
