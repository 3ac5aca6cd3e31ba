package dev.cvmkms.kms.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.config.AuditRotation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log as a JSON-lines file (mode 0600), appended with one {@code write} per line (no
 * user-space buffer, so a completed append is in the OS). Writes run on a one-thread worker of
 * their own, in order, never on the event loop. The file is opened lazily and reopened after a
 * failure, so an operator who fixes the disk does not need a restart.
 *
 * <p>It is rotated by size ({@link AuditRotation}): before a line that would take the file past the
 * limit, {@code path} becomes {@code path.1} (older files shift, the oldest beyond {@code
 * keep_files} is deleted) and a new file starts, so a line is never split across files. A rotation
 * that fails fails that line (fail closed). {@link #reopen} (SIGHUP) closes the file so the next
 * line opens {@code path} afresh: external logrotate can move the file away and signal.
 *
 * <p>Every failed append (the request it seals then fails closed) counts in {@code
 * kms.audit.write.failures} ({@code kms_audit_write_failures_total}), which the shipped alert rules
 * page on.
 */
public final class FileAuditLog implements AuditLog {
  private static final Logger LOG = LoggerFactory.getLogger(FileAuditLog.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> MODE =
      java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");

  private final Path path;
  private final AuditRotation rotation;
  private final WorkerExecutor worker;
  private final Counter failures;
  private @Nullable FileChannel channel; // only touched on the worker thread; null: closed
  private long size; // of the open file; only touched on the worker thread

  /** A log whose failure counter is not exported (tests, tools). */
  public FileAuditLog(Vertx vertx, Path path) {
    this(vertx, path, AuditRotation.DEFAULTS, new SimpleMeterRegistry());
  }

  public FileAuditLog(Vertx vertx, Path path, AuditRotation rotation) {
    this(vertx, path, rotation, new SimpleMeterRegistry());
  }

  public FileAuditLog(Vertx vertx, Path path, AuditRotation rotation, MeterRegistry registry) {
    this.path = Objects.requireNonNull(path, "path");
    this.rotation = Objects.requireNonNull(rotation, "rotation");
    this.worker = vertx.createSharedWorkerExecutor("kms-audit", 1, 10, TimeUnit.SECONDS);
    this.failures =
        Counter.builder("kms.audit.write.failures")
            .description("Audit lines that could not be written (their requests failed closed)")
            .register(registry);
  }

  /**
   * Closes the file after the lines already queued; the next line reopens {@code path} (creating it
   * if logrotate moved it away). What SIGHUP does.
   */
  public Future<Void> reopen() {
    return worker.executeBlocking(
        () -> {
          closeQuietly();
          LOG.info("audit log {} reopened on request", path);
          return null;
        },
        true);
  }

  public Path path() {
    return path;
  }

  /** Opens (creating) the file now, so a start-up with an unwritable audit path fails at once. */
  public Future<Void> open() {
    return worker.executeBlocking(
        () -> {
          ensureOpen();
          return null;
        },
        true);
  }

  @Override
  public Future<Void> append(Map<String, Object> line) {
    byte[] bytes;
    try {
      bytes =
          (JSON.writeValueAsString(line) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      failures.increment();
      return Future.failedFuture(e);
    }
    Future<Void> written =
        worker.executeBlocking(
            () -> {
              write(bytes);
              return null;
            },
            true);
    return written.onFailure(e -> failures.increment());
  }

  /** Appends that failed so far. */
  public long writeFailures() {
    return (long) failures.count();
  }

  private void write(byte[] bytes) throws IOException {
    try {
      FileChannel ch = ensureOpen();
      if (size > 0 && size + bytes.length > rotation.maxBytes()) {
        rotate();
        ch = ensureOpen();
      }
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        size += ch.write(buf);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.error("audit log {} is not writable: {}", path, e.toString());
      closeQuietly();
      throw e instanceof IOException io ? io : ((UncheckedIOException) e).getCause();
    }
  }

  private FileChannel ensureOpen() throws IOException {
    FileChannel ch = channel;
    if (ch == null || !ch.isOpen()) {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      boolean posix = path.getFileSystem().supportedFileAttributeViews().contains("posix");
      java.nio.file.attribute.FileAttribute<?>[] attrs =
          posix
              ? new java.nio.file.attribute.FileAttribute<?>[] {
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(MODE)
              }
              : new java.nio.file.attribute.FileAttribute<?>[0];
      ch =
          FileChannel.open(
              path,
              java.util.Set.of(
                  StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
              attrs);
      channel = ch;
      if (posix && !MODE.containsAll(Files.getPosixFilePermissions(path))) {
        Files.setPosixFilePermissions(path, MODE); // a file from an older version was 0644
      }
      size = ch.size();
    }
    return ch;
  }

  /** path.(n-1) → path.n … path → path.1, dropping the oldest; then a new file at path. */
  private void rotate() throws IOException {
    closeQuietly();
    int keep = rotation.keepFiles();
    Files.deleteIfExists(numbered(keep));
    for (int i = keep - 1; i >= 1; i--) {
      if (Files.exists(numbered(i))) {
        Files.move(numbered(i), numbered(i + 1), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    }
    Files.move(path, numbered(1), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    LOG.info("audit log {} rotated at {} bytes (keeping {} files)", path, size, keep);
  }

  private Path numbered(int i) {
    return path.resolveSibling(path.getFileName() + "." + i);
  }

  private void closeQuietly() {
    FileChannel ch = channel;
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // already failing; the next append reopens
      }
      channel = null;
    }
  }

  public Future<Void> close() {
    Future<Void> closed =
        worker.executeBlocking(
            () -> {
              closeQuietly();
              return null;
            },
            true);
    return closed.eventually(() -> worker.close()).mapEmpty();
  }

  @Override
  public String toString() {
    return "FileAuditLog[" + path + "]";
  }
}
