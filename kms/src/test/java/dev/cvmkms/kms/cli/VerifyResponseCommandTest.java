package dev.cvmkms.kms.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.keys.ResponseSignature;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kms verify-response} on synthetic dumps: formats curl writes, freshness, bad input. */
class VerifyResponseCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] KEY = HexFormat.of().parseHex("05".repeat(32));
  private static final String PUB = HexFormat.of().formatHex(Secp256k1.publicKeyCompressed(KEY));
  private static final long T = 1_767_225_600L;
  private static final byte[] BODY =
      "{\"ca_cert\":\"pem\",\"is_dev\":true}".getBytes(StandardCharsets.UTF_8);

  @TempDir Path tmp;

  record Result(int code, String out, String err) {}

  private Result run(long nowSeconds, String... args) {
    VerifyResponseCommand command = new VerifyResponseCommand();
    command.clock = Clock.fixed(Instant.ofEpochSecond(nowSeconds), ZoneOffset.UTC);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(command);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return new Result(cli.execute(args), out.toString(), err.toString());
  }

  private Path dump(String head, String eol, byte[] body) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(head.replace("\n", eol).getBytes(StandardCharsets.ISO_8859_1));
    b.write(eol.getBytes(StandardCharsets.ISO_8859_1));
    b.write(body);
    return Files.write(Files.createTempFile(tmp, "dump", ".http"), b.toByteArray());
  }

  private static String signedHeaders(String method, long t, byte[] body) {
    ResponseSignature s = ResponseSignature.sign(KEY, t, method, body);
    return "x-kms-timestamp: "
        + s.timestampHeader()
        + "\nx-kms-signature: "
        + s.signatureHeader()
        + "\n";
  }

  @Test
  void acceptsCurlDumps_withInterimBlocks_http2Names_andLfLines() throws Exception {
    String headers = signedHeaders("GetMeta", T, BODY);
    Path http11 =
        dump(
            "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Type: application/json\nX-Kms-Timestamp: "
                + T
                + "\nX-Kms-Signature: "
                + headers.split("x-kms-signature: ", -1)[1],
            "\r\n",
            BODY);
    Result r = run(T, "--method", "GetMeta", "--k256-pubkey", PUB, "--response", http11.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(JSON.readTree(r.out()).get("timestamp").asLong()).isEqualTo(T);
    assertThat(JSON.readTree(r.out()).get("verdict").asText()).isEqualTo("valid");

    Path http2 = dump("HTTP/2 200\ncontent-type: application/json\n" + headers, "\n", BODY);
    assertThat(
            run(T, "--method", "GetMeta", "--k256-pubkey", PUB, "--response", http2.toString())
                .code())
        .isZero();
    Path proxied =
        dump("HTTP/1.1 200 Connection established\n\nHTTP/2 200\n" + headers, "\r\n", BODY);
    assertThat(
            run(
                    T,
                    "--method",
                    "GetMeta",
                    "--k256-pubkey",
                    "0x" + PUB,
                    "--response",
                    proxied.toString())
                .code())
        .isZero();
  }

  @Test
  void maxAge_usesTheClock() throws Exception {
    Path d = dump("HTTP/1.1 200 OK\n" + signedHeaders("GetMeta", T, BODY), "\r\n", BODY);
    String[] args = {
      "--method", "GetMeta", "--k256-pubkey", PUB, "--response", d.toString(), "--max-age"
    };
    assertThat(run(T + 10, concat(args, "20")).code()).isZero();
    Result old = run(T + 10, concat(args, "5"));
    assertThat(old.code()).isEqualTo(1);
    assertThat(old.err()).contains("10 s old");
    assertThat(run(T - 10, concat(args, "5")).code()).as("from the future").isEqualTo(1);
  }

  @Test
  void unsignedOrFailedResponses_areInvalid_andBadArgumentsExit2() throws Exception {
    Path unsigned = dump("HTTP/1.1 200 OK\nContent-Type: application/json\n", "\r\n", BODY);
    Result r =
        run(T, "--method", "GetMeta", "--k256-pubkey", PUB, "--response", unsigned.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("no X-Kms-Timestamp header");

    Path error =
        dump(
            "HTTP/1.1 400 Bad Request\n",
            "\r\n",
            "{\"error\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(
            run(T, "--method", "GetMeta", "--k256-pubkey", PUB, "--response", error.toString())
                .err())
        .contains("only 200 responses are signed");

    Path garbled =
        dump("HTTP/1.1 200 OK\nX-Kms-Timestamp: " + T + "\nX-Kms-Signature: 00\n", "\r\n", BODY);
    assertThat(
            run(T, "--method", "GetMeta", "--k256-pubkey", PUB, "--response", garbled.toString())
                .code())
        .isEqualTo(1);

    Path notHttp = Files.writeString(tmp.resolve("x.json"), "{\"ca_cert\":1}");
    Result n =
        run(T, "--method", "GetMeta", "--k256-pubkey", PUB, "--response", notHttp.toString());
    assertThat(n.code()).isEqualTo(2);
    assertThat(n.err()).contains("curl -i");
    assertThat(
            run(
                    T,
                    "--method",
                    "GetMeta",
                    "--k256-pubkey",
                    PUB.substring(2),
                    "--response",
                    notHttp.toString())
                .code())
        .isEqualTo(2);
    assertThat(run(T, "--method", "GetMeta", "--k256-pubkey", PUB).code())
        .as("no input")
        .isEqualTo(2);
  }

  private static String[] concat(String[] a, String last) {
    String[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = last;
    return out;
  }
}
