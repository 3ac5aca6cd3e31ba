package dev.cvmkms.kms.attestation.tsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigfsQuoteProviderTest {
  static final MockTdxPki PKI = new MockTdxPki("configfs".getBytes(StandardCharsets.UTF_8));

  private final FakeTsmFs fs = new FakeTsmFs(PKI);
  private final List<Duration> sleeps = new ArrayList<>();
  private final ConfigfsQuoteProvider provider =
      new ConfigfsQuoteProvider(fs, 3, Duration.ofSeconds(10), sleeps::add);

  private static byte[] rd(int v) {
    byte[] b = new byte[64];
    b[0] = (byte) v;
    b[63] = (byte) v;
    return b;
  }

  private static void fails(Runnable r, String text) {
    assertThatThrownBy(r::run)
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.QUOTE_UNAVAILABLE);
              assertThat(e.getMessage()).contains(text);
            });
  }

  @Test
  void quoteCarriesOurReportDataAndTheEntryIsRemoved() {
    byte[] q = provider.quote(rd(7));
    assertThat(TdxQuote.parse(q).body().reportData()).isEqualTo(rd(7));
    assertThat(fs.liveEntries()).isZero();
    assertThat(fs.removed).isEqualTo(1);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void reportDataMustBe64Bytes() {
    assertThatThrownBy(() -> provider.quote(new byte[63]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void busyHostIsRetriedAfterABoundedWait() {
    fs.busyReads = 2;
    assertThat(TdxQuote.parse(provider.quote(rd(1))).body().reportData()).isEqualTo(rd(1));
    assertThat(sleeps).containsExactly(Duration.ofSeconds(10), Duration.ofSeconds(10));
    assertThat(fs.liveEntries()).isZero();
  }

  @Test
  void busyForeverGivesUpAfterTheAttemptBudget() {
    fs.busyReads = 100;
    fails(() -> provider.quote(rd(1)), "after 3 attempts");
    assertThat(sleeps).hasSize(2);
    assertThat(fs.liveEntries()).isZero();
  }

  @Test
  void concurrentWriterIsDetectedByTheGenerationAndRetried() {
    fs.interferingWrites = 1;
    byte[] q = provider.quote(rd(9));
    assertThat(TdxQuote.parse(q).body().reportData()).isEqualTo(rd(9));
    // the first quote covered the intruder's inblob; the generation check threw it away
    assertThat(fs.quotesMade).isEqualTo(2);
    fs.interferingWrites = 5;
    fails(() -> provider.quote(rd(9)), "generation moved");
  }

  @Test
  void missingAbiWrongProviderAndHostFailuresAreClear() {
    fs.present = false;
    fails(() -> provider.quote(rd(1)), "configfs-tsm report ABI not found");
    fs.present = true;
    fs.provider = "sev_guest\n";
    fails(() -> provider.quote(rd(1)), "not tdx_guest");
    fs.provider = null;
    fails(() -> provider.quote(rd(1)), "no TSM provider");
    fs.provider = "tdx_guest\n";
    fs.outblobError = "Input/output error";
    fails(() -> provider.quote(rd(1)), "EIO");
    assertThat(fs.liveEntries()).isZero();
  }

  @Test
  void concurrentCallersWithPrivateEntriesAllGetTheirOwnQuote() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<byte[]>> fs4 = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        int v = i;
        fs4.add(pool.submit(() -> provider.quote(rd(v))));
      }
      for (int i = 0; i < 8; i++) {
        assertThat(TdxQuote.parse(fs4.get(i).get(30, TimeUnit.SECONDS)).body().reportData())
            .isEqualTo(rd(i));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fs.liveEntries()).isZero();
  }

  @Test
  void realTreeWithoutTheKernelNeverSeesTheGenerationMove(@TempDir Path dir) throws Exception {
    // A plain directory has no kernel behind it: mkdir leaves an empty entry, so reading
    // "provider" fails. The client must report that cleanly and still rmdir its entry.
    Path root = dir.resolve("report");
    Files.createDirectories(root);
    NioTsmFs nio = new NioTsmFs(root);
    ConfigfsQuoteProvider p = new ConfigfsQuoteProvider(nio, 2, Duration.ZERO, d -> {});
    fails(() -> p.quote(rd(1)), "provider");
    try (var s = Files.list(root)) {
      assertThat(s.count()).isZero();
    }
    assertThat(new NioTsmFs(dir.resolve("absent")).available()).isFalse();
  }
}
