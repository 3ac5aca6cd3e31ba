package dev.cvmkms.kms.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cvmkms.kms.keys.ResponseSignature;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kms verify-response}: checks the {@code X-Kms-Timestamp} / {@code X-Kms-Signature} of a
 * saved GetMeta, GetTempCaCert or GetAppEnvEncryptPubKey response against a pinned K256 key (see
 * {@link ResponseSignature}). Prints one JSON document; exit 0 when the signature recovers the
 * pinned key, 1 when it does not (or is missing, or too old for {@code --max-age}), 2 for bad
 * arguments or unreadable files.
 */
@Command(
    name = "verify-response",
    mixinStandardHelpOptions = true,
    description = {
      "Verify the X-Kms-Signature of a saved KMS response against a pinned K256 public key.",
      "Input: a `curl -i` dump (--response), or the body and the two header values."
    })
public final class VerifyResponseCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  @Spec CommandSpec spec;

  @Option(
      names = "--method",
      required = true,
      paramLabel = "NAME",
      description =
          "The RPC called: GetMeta, GetTempCaCert or GetAppEnvEncryptPubKey (KMS. optional).")
  String method = ""; // required: picocli always sets it

  @Option(
      names = "--k256-pubkey",
      required = true,
      paramLabel = "HEX",
      description = "The pinned root K256 key: GetMeta's k256_pubkey (33 bytes compressed, hex).")
  String pubkey = ""; // required: picocli always sets it

  @ArgGroup(exclusive = true, multiplicity = "1")
  @Nullable Input input; // picocli creates it: multiplicity 1

  static final class Input {
    @Option(
        names = "--response",
        paramLabel = "FILE",
        description = "The response saved with `curl -i` (status line, headers, blank line, body).")
    @Nullable Path response;

    @ArgGroup(exclusive = false)
    @Nullable Parts parts; // exclusive with --response: exactly one of the two is set
  }

  static final class Parts {
    @Option(
        names = "--body",
        required = true,
        paramLabel = "FILE",
        description = "The response body, byte-exact (e.g. `curl -o FILE`).")
    Path body = Path.of(""); // required in the group: picocli sets it

    @Option(
        names = "--timestamp",
        required = true,
        paramLabel = "SECONDS",
        description = "The X-Kms-Timestamp header value.")
    String timestamp = ""; // required in the group: picocli sets it

    @Option(
        names = "--signature",
        required = true,
        paramLabel = "HEX",
        description = "The X-Kms-Signature header value.")
    String signature = ""; // required in the group: picocli sets it
  }

  @Option(
      names = "--max-age",
      paramLabel = "SECONDS",
      description = "Also fail when the timestamp is older than this (or this far in the future).")
  @Nullable Long maxAge;

  Clock clock = Clock.systemUTC();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String bare = method.trim();
    while (bare.startsWith("KMS.")) {
      bare = bare.substring(4);
    }
    byte[] pinned;
    byte[] body;
    Optional<String> timestamp;
    Optional<String> signature;
    Input in = Objects.requireNonNull(input, "picocli sets the group of multiplicity 1");
    try {
      pinned = parseKey(pubkey);
      if (in.response != null) {
        SavedResponse saved = SavedResponse.parse(Files.readAllBytes(in.response));
        if (saved.status() != 200) {
          return invalid(
              out,
              err,
              bare,
              null,
              null,
              "HTTP status " + saved.status() + ": only 200 responses are signed");
        }
        body = saved.body();
        timestamp = saved.header(ResponseSignature.TIMESTAMP_HEADER);
        signature = saved.header(ResponseSignature.SIGNATURE_HEADER);
      } else {
        Parts parts = Objects.requireNonNull(in.parts, "picocli sets --response or the parts");
        body = Files.readAllBytes(parts.body);
        timestamp = Optional.of(parts.timestamp);
        signature = Optional.of(parts.signature);
      }
      if (maxAge != null && maxAge < 0) {
        throw new IllegalArgumentException("--max-age must be >= 0");
      }
    } catch (IllegalArgumentException | IOException e) {
      err.println("verify-response: " + e.getMessage());
      return 2;
    }
    if (timestamp.isEmpty() || signature.isEmpty()) {
      return invalid(
          out,
          err,
          bare,
          body,
          null,
          "the response carries no "
              + (timestamp.isEmpty()
                  ? ResponseSignature.TIMESTAMP_HEADER
                  : ResponseSignature.SIGNATURE_HEADER)
              + " header");
    }
    ResponseSignature sig;
    try {
      sig = ResponseSignature.parse(timestamp.get(), signature.get());
    } catch (IllegalArgumentException e) {
      return invalid(
          out,
          err,
          bare,
          body,
          null,
          e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
    Optional<byte[]> recovered;
    try {
      recovered = sig.recover(bare, body);
    } catch (IllegalArgumentException e) { // a method name that cannot be part of the digest
      err.println("verify-response: --method: " + e.getMessage());
      return 2;
    }
    if (recovered.isEmpty()) {
      return invalid(out, err, bare, body, sig, "the signature recovers no key");
    }
    if (!Arrays.equals(recovered.get(), pinned)) {
      return invalid(
          out,
          err,
          bare,
          body,
          sig,
          "signed by k256 key "
              + HEX.formatHex(recovered.get())
              + ", not the pinned key (changed body, method or timestamp, or another KMS)");
    }
    if (maxAge != null) {
      long age = clock.instant().getEpochSecond() - sig.timestamp();
      if (Math.abs(age) > maxAge) {
        return invalid(
            out,
            err,
            bare,
            body,
            sig,
            "timestamp is " + age + " s old, more than --max-age " + maxAge);
      }
    }
    print(out, bare, body, sig, null);
    err.println(
        "verify-response: OK: "
            + bare
            + " response signed by the pinned key at "
            + Instant.ofEpochSecond(sig.timestamp()));
    return 0;
  }

  private int invalid(
      PrintWriter out,
      PrintWriter err,
      String bare,
      byte @Nullable [] body,
      @Nullable ResponseSignature sig,
      String failure) {
    print(out, bare, body, sig, failure);
    err.println("verify-response: INVALID: " + failure);
    return 1;
  }

  /** The one JSON document on stdout; {@code failure} null for a valid signature. */
  private void print(
      PrintWriter out,
      String bare,
      byte @Nullable [] body,
      @Nullable ResponseSignature sig,
      @Nullable String failure) {
    ObjectNode o = JSON.createObjectNode();
    o.put("verdict", failure == null ? "valid" : "invalid");
    o.put("method", bare);
    if (sig != null) {
      o.put("timestamp", sig.timestamp());
      o.put("signedAt", Instant.ofEpochSecond(sig.timestamp()).toString());
    }
    if (body != null) {
      o.put("bodySha256", HEX.formatHex(ResponseSignature.sha256(body)));
    }
    o.put("k256Pubkey", HEX.formatHex(parseKey(pubkey)));
    if (failure != null) {
      o.put("reason", failure);
    }
    out.println(o.toPrettyString());
    out.flush();
  }

  static byte[] parseKey(String hex) {
    String h = hex.trim();
    if (h.startsWith("0x") || h.startsWith("0X")) {
      h = h.substring(2);
    }
    byte[] key;
    try {
      key = HEX.parseHex(h);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--k256-pubkey is not hex");
    }
    if (key.length != Secp256k1.COMPRESSED_KEY_LENGTH || (key[0] != 2 && key[0] != 3)) {
      throw new IllegalArgumentException(
          "--k256-pubkey must be a 33-byte compressed secp256k1 key (02|03 + 32 bytes), got "
              + key.length
              + " bytes");
    }
    return key;
  }
}
