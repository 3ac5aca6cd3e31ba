package dev.cvmkms.kms.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.dcap.Certs;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TdReport;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.attestation.dcap.VerifiedQuote;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.config.PccsConfig;
import dev.cvmkms.kms.upstream.PccsClient;
import dev.cvmkms.kms.upstream.Timers;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kms verify-quote}: DCAP-verifies a quote and prints one JSON document with the verdict,
 * the TCB status and the measurements. Exit 0 for a valid quote whatever its TCB status, 1 when
 * verification fails, 2 for bad arguments or unreadable files.
 */
@Command(
    name = "verify-quote",
    mixinStandardHelpOptions = true,
    description = "Verify a TDX quote (binary or hex file) with Intel DCAP rules.")
public final class VerifyQuoteCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "The quote (binary or hex text).")
  Path quoteFile = Path.of(""); // required (arity 1): picocli always sets it

  @Option(
      names = "--collateral",
      paramLabel = "FILE",
      description = "Collateral JSON in dcap-qvl's format; without it, fetched from --pccs.")
  @Nullable Path collateralFile;

  @Option(
      names = "--pccs",
      paramLabel = "URL",
      defaultValue = "https://api.trustedservices.intel.com",
      description = "PCS/PCCS to fetch collateral from. Default: ${DEFAULT-VALUE}.")
  URI pccs = URI.create("https://api.trustedservices.intel.com");

  @Option(
      names = "--pccs-deadline",
      paramLabel = "DURATION",
      defaultValue = "5s",
      description =
          "Bound on fetching collateral from --pccs, retries included (e.g. 5s, 500ms)."
              + " Default: ${DEFAULT-VALUE}.")
  String pccsDeadline = "5s";

  @Option(
      names = "--at",
      paramLabel = "TIME",
      description = "Verification time: ISO-8601 (2025-07-01T00:00:00Z) or Unix seconds.")
  @Nullable String at;

  @Option(
      names = "--root",
      paramLabel = "FILE",
      description = "Trust this root (PEM or DER) instead of the Intel SGX Root CA. INSECURE.")
  @Nullable Path root;

  @Option(
      names = "--mock",
      description = "Trust the mock PKI's root and use its collateral (for mock quotes). INSECURE.")
  boolean mock;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Instant now;
    byte[] quote;
    TrustAnchor anchor = TrustAnchor.intelSgxRoot();
    CollateralSource source;
    try {
      now = parseTime(at);
      quote = readQuote(quoteFile);
      if (mock) {
        MockTdx m = MockTdx.create(now);
        anchor = m.pki().trustAnchor();
        source = CollateralSource.fixed(m.collateral());
      } else if (collateralFile != null) {
        Collateral c = Collateral.fromJson(Files.readString(collateralFile));
        source = CollateralSource.fixed(c);
      } else {
        PccsConfig d = PccsConfig.defaults();
        Duration deadline;
        try {
          deadline = dev.cvmkms.kms.config.Durations.parse(pccsDeadline);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("--pccs-deadline: " + e.getMessage());
        }
        PccsConfig c;
        try {
          c =
              new PccsConfig(
                  d.client().withDeadline(deadline),
                  d.cacheSize(),
                  d.refreshAfter(),
                  d.failureBackoff());
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("--pccs-deadline: " + e.getMessage());
        }
        source =
            new PccsClient(
                pccs,
                c,
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                java.time.Clock.systemUTC(),
                () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble(),
                Timers.daemon("kms-pccs-timer"),
                dev.cvmkms.kms.KmsVersion.version());
      }
      if (root != null) {
        anchor = TrustAnchor.insecureExternal(readRoot(root));
      }
    } catch (IllegalArgumentException | java.io.IOException | AttestationException e) {
      err.println("verify-quote: " + e.getMessage());
      return 2;
    }
    ObjectNode o = JSON.createObjectNode();
    o.put("file", quoteFile.toString());
    o.put("at", now.toString());
    o.put("trustAnchor", anchor.toString());
    int rc;
    try {
      TdxQuote parsed = TdxQuote.parse(quote);
      o.set("quote", measurements(parsed));
      DcapVerifier dcap = new DcapVerifier(anchor);
      CollateralSource.Key key =
          collateralFile == null && !mock
              ? dcap.fetchableCollateralKey(parsed, now)
              : CollateralSource.Key.of(parsed);
      VerifiedQuote v = dcap.verify(parsed, fetch(source, key), now);
      o.put("verdict", "valid");
      o.put("tcbStatus", v.status().intelName());
      o.set("advisoryIds", JSON.valueToTree(v.advisoryIds()));
      o.put("platformStatus", v.platformStatus().intelName());
      o.put("qeStatus", v.qeStatus().intelName());
      o.put("moduleStatus", v.moduleStatus() == null ? null : v.moduleStatus().intelName());
      o.put("fmspc", Bytes.hex(v.pck().fmspc()));
      o.put("deviceId", Bytes.hex(Bytes.sha256(v.ppid())));
      rc = 0;
    } catch (AttestationException e) {
      o.put("verdict", "invalid");
      o.put("reason", e.reason().name());
      o.put("error", e.getMessage());
      rc = 1;
    }
    out.println(o.toPrettyString());
    out.flush();
    return rc;
  }

  /** Waits for the collateral; the PCCS client's own deadline bounds the wait. */
  private static Collateral fetch(CollateralSource source, CollateralSource.Key key) {
    try {
      return source.fetch(key).toCompletableFuture().get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof AttestationException a) {
        throw a;
      }
      throw new AttestationException(
          AttestationException.Reason.COLLATERAL_UNAVAILABLE,
          "collateral fetch failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AttestationException(
          AttestationException.Reason.COLLATERAL_UNAVAILABLE, "interrupted");
    }
  }

  static Instant parseTime(@Nullable String s) {
    if (s == null) {
      return Instant.now();
    }
    String t = s.trim();
    if (t.matches("\\d{1,12}")) {
      return Instant.ofEpochSecond(Long.parseLong(t));
    }
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      try {
        return java.time.OffsetDateTime.parse(t).toInstant();
      } catch (DateTimeParseException e2) {
        throw new IllegalArgumentException("--at: not ISO-8601 or Unix seconds: " + s);
      }
    }
  }

  static byte[] readQuote(Path file) throws java.io.IOException {
    byte[] raw = Files.readAllBytes(file);
    String text = new String(raw, StandardCharsets.US_ASCII).trim();
    if (!text.isEmpty() && text.matches("(0x)?[0-9a-fA-F]+") && text.length() % 2 == 0) {
      return Bytes.unhex(text, "quote");
    }
    return raw;
  }

  private static X509Certificate readRoot(Path file) throws java.io.IOException {
    byte[] raw = Files.readAllBytes(file);
    String text = new String(raw, StandardCharsets.US_ASCII);
    if (text.contains("-----BEGIN CERTIFICATE-----")) {
      return Certs.parsePemChain(text, "--root").get(0);
    }
    return Certs.parseDer(raw, "--root");
  }

  private static ObjectNode measurements(TdxQuote q) {
    TdReport b = q.body();
    ObjectNode m = JSON.createObjectNode();
    m.put("version", q.version());
    m.put("teeTcbSvn", Bytes.hex(b.teeTcbSvn()));
    m.put("mrSeam", Bytes.hex(b.mrSeam()));
    m.put("tdAttributes", Bytes.hex(b.tdAttributes()));
    m.put("xfam", Bytes.hex(b.xfam()));
    m.put("mrTd", Bytes.hex(b.mrTd()));
    m.put("mrConfigId", Bytes.hex(b.mrConfigId()));
    m.put("mrOwner", Bytes.hex(b.mrOwner()));
    m.put("mrOwnerConfig", Bytes.hex(b.mrOwnerConfig()));
    for (int i = 0; i < 4; i++) {
      m.put("rtmr" + i, Bytes.hex(b.rtmr(i)));
    }
    m.put("reportData", Bytes.hex(b.reportData()));
    return m;
  }
}
