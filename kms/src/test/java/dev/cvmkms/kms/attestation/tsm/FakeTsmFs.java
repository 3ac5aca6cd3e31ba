package dev.cvmkms.kms.attestation.tsm;

import dev.cvmkms.kms.attestation.mock.MockQuoteSpec;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A configfs-tsm report tree that behaves like the kernel's (tsm.c, tdx-guest.c,
 * fs/configfs/file.c): a write to inblob takes effect when its channel closes and bumps
 * write_generation; the quote is made lazily on the first outblob read after a write and cached;
 * EINVAL for an inblob that is not 64 bytes; EFBIG past 64 bytes. Faults are injected: EBUSY on the
 * next n outblob reads, and a "concurrent writer" that writes the entry between our write and our
 * read. Errors use the strerror texts the JDK produces on Linux.
 */
final class FakeTsmFs implements TsmFs {
  private final MockTdxPki pki;
  private final Map<String, Entry> entries = new HashMap<>();
  private final AtomicInteger counter = new AtomicInteger();
  boolean present = true;
  String provider = "tdx_guest\n";

  /** outblob reads that fail with EBUSY before one succeeds. */
  int busyReads;

  /** outblob reads preceded by a foreign inblob write (a concurrent writer on our entry). */
  int interferingWrites;

  /** fail every outblob read with this strerror text (e.g. EIO). */
  String outblobError;

  int quotesMade;
  int removed;

  private static final class Entry {
    long writeGeneration;
    long readGeneration = -1;
    byte[] inblob = new byte[0];
    byte[] outblob;
  }

  FakeTsmFs(MockTdxPki pki) {
    this.pki = pki;
  }

  synchronized int liveEntries() {
    return entries.size();
  }

  @Override
  public boolean available() {
    return present;
  }

  @Override
  public synchronized String mkdirTemp(String prefix) throws IOException {
    if (provider == null) {
      throw new FileSystemException(
          "/sys/kernel/config/tsm/report/x", null, "No such device or address");
    }
    String name = prefix + counter.incrementAndGet();
    entries.put(name, new Entry());
    return name;
  }

  private Entry entry(String name) throws IOException {
    Entry e = entries.get(name);
    if (e == null) {
      throw new java.nio.file.NoSuchFileException(name);
    }
    return e;
  }

  @Override
  public synchronized byte[] read(String name, String attribute) throws IOException {
    Entry e = entry(name);
    return switch (attribute) {
      case "provider" -> provider.getBytes(StandardCharsets.US_ASCII);
      case "generation" -> (e.writeGeneration + "\n").getBytes(StandardCharsets.US_ASCII);
      case "outblob" -> outblob(e);
      default -> throw new java.nio.file.NoSuchFileException(attribute);
    };
  }

  private byte[] outblob(Entry e) throws IOException {
    if (interferingWrites > 0) {
      interferingWrites--;
      byte[] other = new byte[64];
      other[0] = 0x42;
      commit(e, other);
    }
    if (busyReads > 0) {
      busyReads--;
      throw new FileSystemException("outblob", null, "Device or resource busy");
    }
    if (outblobError != null) {
      throw new FileSystemException("outblob", null, outblobError);
    }
    if (e.readGeneration != e.writeGeneration) {
      if (e.inblob.length != 64) {
        throw new FileSystemException("outblob", null, "Invalid argument");
      }
      e.outblob = pki.quote(new MockQuoteSpec().reportData(e.inblob));
      e.readGeneration = e.writeGeneration;
      quotesMade++;
    }
    return e.outblob.clone();
  }

  private void commit(Entry e, byte[] data) {
    e.inblob = data;
    e.writeGeneration++;
  }

  @Override
  public synchronized WritableByteChannel openWrite(String name, String attribute)
      throws IOException {
    Entry e = entry(name);
    if (!attribute.equals("inblob")) {
      throw new FileSystemException(attribute, null, "Permission denied");
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    return new WritableByteChannel() {
      boolean open = true;

      @Override
      public int write(ByteBuffer src) throws IOException {
        if (buf.size() + src.remaining() > 64) {
          throw new FileSystemException("inblob", null, "File too large");
        }
        int n = src.remaining();
        byte[] b = new byte[n];
        src.get(b);
        buf.writeBytes(b);
        return n;
      }

      @Override
      public boolean isOpen() {
        return open;
      }

      @Override
      public void close() {
        if (open) {
          open = false;
          synchronized (FakeTsmFs.this) {
            commit(e, buf.toByteArray()); // configfs applies binary attributes on release
          }
        }
      }
    };
  }

  @Override
  public synchronized void remove(String name) throws IOException {
    entry(name);
    entries.remove(name);
    removed++;
  }

  @Override
  public String describe() {
    return "fake configfs";
  }
}
