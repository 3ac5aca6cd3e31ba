/*
 * Attestation verification benchmark (single-file Java program; run through run.sh).
 *
 * Measures, single-threaded, after warm-up:
 *   - DCAP verification of one quote with collateral already checked (the steady state of a KMS
 *     whose collateral cache is warm), for a real Intel quote and for a mock quote;
 *   - the same with cold collateral (a fresh Collateral object: TCB Info, QE Identity, CRL and
 *     signer-certificate signatures are checked again);
 *   - each ECDSA P-256 verification the per-quote path performs, measured alone:
 *     PCK certificate signature, PCK CA certificate signature, QE report signature, quote signature.
 * and prints a Markdown table with the ratio of verification time to the sum of its ECDSA parts.
 */
import dev.cvmkms.kms.attestation.dcap.Certs;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.EcdsaP256;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

public class VerifyBench {
  interface Op {
    void run() throws Exception;
  }

  static volatile Object sink;

  /**
   * Runs every op for {@code batchMs} in turn, {@code rounds} times (interleaved, so load from
   * other processes hits all ops alike), and returns each op's median batch mean in µs per op.
   */
  static double[] measure(Op[] ops, int warmupMs, int rounds, int batchMs) throws Exception {
    for (Op op : ops) {
      long end = System.nanoTime() + warmupMs * 1_000_000L;
      while (System.nanoTime() < end) {
        op.run();
      }
    }
    double[][] means = new double[ops.length][rounds];
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < ops.length; i++) {
        long n = 0;
        long t0 = System.nanoTime();
        long stop = t0 + batchMs * 1_000_000L;
        long t;
        do {
          ops[i].run();
          n++;
          t = System.nanoTime();
        } while (t < stop);
        means[i][r] = (t - t0) / 1000.0 / n;
      }
    }
    double[] out = new double[ops.length];
    for (int i = 0; i < ops.length; i++) {
      Arrays.sort(means[i]);
      out[i] = means[i][rounds / 2];
    }
    return out;
  }

  static String loadavg() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "n/a";
    }
  }

  static boolean certSig(X509Certificate c, PublicKey issuer) throws Exception {
    // Signature directly: X509Certificate.verify caches its last result per key.
    Signature s = Signature.getInstance(c.getSigAlgName());
    s.initVerify(issuer);
    s.update(c.getTBSCertificate());
    return s.verify(c.getSignature());
  }

  record Case(String name, byte[] quote, Collateral collateral, DcapVerifier verifier, Instant at,
      X509Certificate root) {}

  public static void main(String[] args) throws Exception {
    boolean quick = Arrays.asList(args).contains("--quick");
    int warm = quick ? 1500 : 5000;
    int batches = quick ? 5 : 9;
    int batchMs = quick ? 300 : 1000;
    Path vectors = Path.of(args.length > 0 && !args[0].startsWith("--") ? args[0]
        : "kms/src/test/resources/attestation");

    byte[] real = Files.readAllBytes(vectors.resolve("dcap-qvl/tdx_quote.bin"));
    String realColl = Files.readString(vectors.resolve("dcap-qvl/tdx_quote_collateral.json"));
    Instant realAt = Instant.ofEpochSecond((1750329147L + 1752919235L) / 2);
    MockTdx mock = MockTdx.create(Instant.parse("2026-11-21T00:00:00Z"));
    List<Case> cases = List.of(
        new Case("Intel (dcap-qvl sample)", real, Collateral.fromJson(realColl),
            new DcapVerifier(TrustAnchor.intelSgxRoot()), realAt, TrustAnchor.intelSgxRoot().root()),
        new Case("mock", mock.quote(new byte[64]), mock.collateral(), mock.dcapVerifier(),
            Instant.parse("2026-11-21T00:00:00Z"), mock.pki().root()));

    System.out.printf(Locale.ROOT, "java %s, %s, %d cores, loadavg at start: %s%n%n",
        System.getProperty("java.version"), System.getProperty("os.arch"),
        Runtime.getRuntime().availableProcessors(), loadavg());
    System.out.println("| quote | verify, warm collateral (µs) | verify, cold collateral (µs) "
        + "| parse only (µs) | PCK cert sig | PCK CA sig | QE report sig | quote sig "
        + "| Σ ECDSA (µs) | verify / Σ ECDSA |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (Case c : cases) {
      TdxQuote q = TdxQuote.parse(c.quote);
      List<X509Certificate> chain = Certs.parsePemChain(q.pckChainPem(), "pck");
      X509Certificate pck = chain.get(0);
      X509Certificate ca = chain.get(1);
      PublicKey ak = EcdsaP256.publicKey(q.attestationKey());
      byte[] signed = q.signedRegion();
      byte[] qe = q.qeReport().raw();
      if (!certSig(pck, ca.getPublicKey()) || !certSig(ca, c.root.getPublicKey())
          || !EcdsaP256.verify(pck.getPublicKey(), qe, q.qeReportSignature())
          || !EcdsaP256.verify(ak, signed, q.signature())) {
        throw new IllegalStateException("a signature does not verify in " + c.name);
      }
      String collJson = c.collateral.toJson();
      Op[] ops = {
        () -> sink = c.verifier.verify(c.quote, c.collateral, c.at),
        () -> sink = c.verifier.verify(c.quote, Collateral.fromJson(collJson), c.at),
        () -> sink = TdxQuote.parse(c.quote),
        () -> sink = certSig(pck, ca.getPublicKey()),
        () -> sink = certSig(ca, c.root.getPublicKey()),
        () -> sink = EcdsaP256.verify(pck.getPublicKey(), qe, q.qeReportSignature()),
        () -> sink = EcdsaP256.verify(ak, signed, q.signature())
      };
      double[] m = measure(ops, warm, batches, batchMs);
      double warmVerify = m[0];
      double coldVerify = m[1];
      double parse = m[2];
      double s1 = m[3];
      double s2 = m[4];
      double s3 = m[5];
      double s4 = m[6];
      double sum = s1 + s2 + s3 + s4;
      System.out.printf(Locale.ROOT,
          "| %s | %.0f | %.0f | %.1f | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f |%n",
          c.name, warmVerify, coldVerify, parse, s1, s2, s3, s4, sum, warmVerify / sum);
    }
    System.out.println();
    System.out.println("loadavg at end: " + loadavg() + (sink == null ? "" : ""));
  }
}
