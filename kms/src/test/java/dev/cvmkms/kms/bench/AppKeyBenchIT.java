package dev.cvmkms.kms.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GetAppKey benchmark as CI runs it ({@code kms/bench/appkey.sh --duration 5 --connections
 * 16}): it finishes, writes its report, and its last stdout line has the agreed format with
 * positive numbers. Speed is the report's business, never this test's.
 */
class AppKeyBenchIT {
  private static final Pattern LAST_LINE =
      Pattern.compile(
          "floor_ms=(\\d+(?:\\.\\d+)?) cores=(\\d+) keepalive_rps=(\\d+(?:\\.\\d+)?)"
              + " ratio=(\\d+(?:\\.\\d+)?)");

  @TempDir Path tmp;

  @Test
  void shortRun_printsFloorThroughputAndRatio_andWritesTheReport() throws Exception {
    Path script = Path.of("bench", "appkey.sh").toAbsolutePath();
    Path report = tmp.resolve("bench-kms-getappkey.md");
    Path out = tmp.resolve("stdout");
    Path err = tmp.resolve("stderr");
    ProcessBuilder pb =
        new ProcessBuilder(
                "bash",
                script.toString(),
                "--duration",
                "5",
                "--connections",
                "16",
                "--out",
                report.toString())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    String jar = System.getProperty("kms.jar", "");
    if (!jar.isBlank()) {
      pb.environment().put("KMS_JAR", jar);
    }
    Process p = pb.start();
    boolean finished = p.waitFor(10, TimeUnit.MINUTES);
    if (!finished) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(finished).as("appkey.sh finished within 10 minutes; stderr:%n%s", stderr).isTrue();
    assertThat(p.exitValue()).as("exit code; stderr:%n%s", stderr).isZero();

    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertThat(lines).as("stdout").isNotEmpty();
    String last = lines.get(lines.size() - 1);
    Matcher m = LAST_LINE.matcher(last);
    assertThat(m.matches()).as("last stdout line: %s", last).isTrue();
    assertThat(Double.parseDouble(m.group(1))).as("floor_ms").isPositive();
    assertThat(Integer.parseInt(m.group(2))).as("cores").isPositive();
    assertThat(Double.parseDouble(m.group(3))).as("keepalive_rps").isPositive();
    assertThat(Double.parseDouble(m.group(4))).as("ratio").isPositive();

    String md = Files.readString(report, StandardCharsets.UTF_8);
    assertThat(md).contains("## The floor", "## GetAppKey under load", "## Targets");
    assertThat(md).contains("| keepalive | 16 |", "| handshake | 16 |");
  }
}
