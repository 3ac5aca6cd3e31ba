package dev.cvmkms.kms.attestation.tsm;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.QuoteProvider;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quotes through Linux configfs-tsm with a private entry (spec tdx-attestation §1.3): mkdir, check
 * the provider is {@code tdx_guest}, write exactly 64 bytes in one write and close, require the
 * generation to have moved by one, read {@code outblob}, require the generation unchanged, check
 * the quote carries our report data, rmdir. A concurrent writer or a busy host means another
 * attempt, after a bounded wait; the number of attempts is bounded too.
 */
public final class ConfigfsQuoteProvider implements QuoteProvider {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigfsQuoteProvider.class);

  /** The TDX driver's shared GetQuote buffer is 8 KiB; v4 quotes are at least 1020 bytes. */
  static final int MIN_QUOTE = 1020;

  static final int MAX_QUOTE = 8192;

  /** How a blocked caller waits (injectable so tests do not sleep). */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final TsmFs fs;
  private final int maxAttempts;
  private final Duration busyWait;
  private final Sleeper sleeper;

  /** Three attempts, 10 s apart when the host is busy, as dstack does. */
  public ConfigfsQuoteProvider(TsmFs fs) {
    this(fs, 3, Duration.ofSeconds(10), d -> Thread.sleep(d.toMillis()));
  }

  public ConfigfsQuoteProvider(TsmFs fs, int maxAttempts, Duration busyWait, Sleeper sleeper) {
    this.fs = Objects.requireNonNull(fs, "fs");
    if (maxAttempts < 1 || maxAttempts > 10) {
      throw new IllegalArgumentException("maxAttempts must be 1..10");
    }
    this.maxAttempts = maxAttempts;
    this.busyWait = busyWait;
    this.sleeper = sleeper;
  }

  @Override
  public String name() {
    return "configfs";
  }

  @Override
  public byte[] quote(byte[] reportData) {
    QuoteProvider.requireReportData(reportData);
    if (!fs.available()) {
      throw unavailable(
          "configfs-tsm report ABI not found at "
              + fs.describe()
              + " (needs Linux >= 6.7 with CONFIG_TSM_REPORTS and configfs mounted; in a"
              + " container, bind-mount /sys/kernel/config/tsm)");
    }
    String last = "no attempt";
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        return attempt(reportData);
      } catch (Retry r) {
        last = r.getMessage();
        LOG.warn("configfs quote attempt {}/{} failed: {}", attempt, maxAttempts, last);
        if (r.waitFirst && attempt < maxAttempts) {
          pause();
        }
      }
    }
    throw unavailable("no quote after " + maxAttempts + " attempts: " + last);
  }

  /** A failure worth another attempt. */
  private static final class Retry extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean waitFirst;

    Retry(String msg, boolean waitFirst) {
      super(msg, null, false, false);
      this.waitFirst = waitFirst;
    }
  }

  private byte[] attempt(byte[] reportData) throws Retry {
    String entry;
    try {
      entry = fs.mkdirTemp("kms-");
    } catch (IOException e) {
      if (Errno.of(e) == Errno.ENXIO) {
        throw unavailable("no TSM provider is registered (not a TD, or tdx_guest not loaded)");
      }
      throw unavailable("cannot create a configfs-tsm entry: " + e.getMessage());
    }
    try {
      String provider = text(entry, "provider");
      if (!provider.startsWith("tdx_guest")) {
        throw unavailable("configfs-tsm provider is '" + provider + "', not tdx_guest");
      }
      long g0 = generation(entry);
      try (WritableByteChannel ch = fs.openWrite(entry, "inblob")) {
        int n = ch.write(ByteBuffer.wrap(reportData));
        if (n != reportData.length) {
          throw new Retry("short inblob write (" + n + " bytes)", false);
        }
      } catch (IOException e) {
        throw failure("writing inblob", e);
      }
      long g1 = generation(entry);
      if (g1 != g0 + 1) {
        throw new Retry("generation went " + g0 + " -> " + g1 + ": a concurrent writer", false);
      }
      byte[] quote;
      try {
        quote = fs.read(entry, "outblob");
      } catch (IOException e) {
        throw failure("reading outblob", e);
      }
      long g2 = generation(entry);
      if (g2 != g1) {
        throw new Retry("generation moved during the quote (" + g1 + " -> " + g2 + ")", false);
      }
      return checked(quote, reportData);
    } finally {
      try {
        fs.remove(entry);
      } catch (IOException e) {
        LOG.warn("could not remove configfs-tsm entry {}: {}", entry, e.getMessage());
      }
    }
  }

  private byte[] checked(byte[] quote, byte[] reportData) {
    if (quote.length <= MIN_QUOTE || quote.length >= MAX_QUOTE) {
      throw unavailable("outblob of " + quote.length + " bytes is not a TDX quote");
    }
    TdxQuote q;
    try {
      q = TdxQuote.parse(quote);
    } catch (AttestationException e) {
      throw unavailable("outblob does not parse as a TDX quote: " + e.getMessage());
    }
    if (!Bytes.equal(q.body().reportData(), reportData)) {
      throw unavailable("the quote carries different report data than written");
    }
    return quote;
  }

  private AttestationException unavailable(String msg) {
    return new AttestationException(Reason.QUOTE_UNAVAILABLE, msg);
  }

  private AttestationException failure(String what, IOException e) throws Retry {
    Errno errno = Errno.of(e);
    if (errno.transientError()) {
      throw new Retry(what + ": " + errno, errno == Errno.EBUSY);
    }
    throw unavailable(
        switch (errno) {
          case EINVAL -> what + ": EINVAL (report data not accepted; it must be 64 bytes)";
          case EIO -> what + ": EIO (the host's quoting service failed; is QGS/PCCS up?)";
          case EFBIG -> what + ": EFBIG";
          default -> what + ": " + e.getMessage();
        });
  }

  private String text(String entry, String attr) {
    try {
      return new String(fs.read(entry, attr), StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      throw unavailable("cannot read " + attr + ": " + e.getMessage());
    }
  }

  private long generation(String entry) {
    String g = text(entry, "generation");
    try {
      return Long.parseLong(g);
    } catch (NumberFormatException e) {
      throw unavailable("generation is not a number: '" + g + "'");
    }
  }

  private void pause() {
    try {
      sleeper.sleep(busyWait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable("interrupted while waiting for the host");
    }
  }

  @Override
  public String toString() {
    return "ConfigfsQuoteProvider[" + fs.describe() + "]";
  }
}
