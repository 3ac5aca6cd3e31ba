package dev.cvmkms.kms.service;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log as a JSON-lines file, appended with one {@code write} per line (no user-space
 * buffer, so a completed append is in the OS). Writes run on a one-thread worker of their own, in
 * order, never on the event loop. The file is opened lazily and reopened after a failure, so an
 * operator who fixes the disk does not need a restart. Every failed append (the request it seals
 * then fails closed) counts in {@code kms.audit.write.failures} ({@code
 * kms_audit_write_failures_total}), which the shipped alert rules page on.
 */
public final class FileAuditLog implements AuditLog {
  private static final Logger LOG = LoggerFactory.getLogger(FileAuditLog.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final WorkerExecutor worker;
  private final Counter failures;
  private FileChannel channel; // only touched on the worker thread

  /** A log whose failure counter is not exported (tests, tools). */
  public FileAuditLog(Vertx vertx, Path path) {
    this(vertx, path, new SimpleMeterRegistry());
  }

  public FileAuditLog(Vertx vertx, Path path, MeterRegistry registry) {
    this.path = Objects.requireNonNull(path, "path");
    this.worker = vertx.createSharedWorkerExecutor("kms-audit", 1, 10, TimeUnit.SECONDS);
    this.failures =
        Counter.builder("kms.audit.write.failures")
            .description("Audit lines that could not be written (their requests failed closed)")
            .register(registry);
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
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.error("audit log {} is not writable: {}", path, e.toString());
      closeQuietly();
      throw e instanceof IOException io ? io : ((UncheckedIOException) e).getCause();
    }
  }

  private FileChannel ensureOpen() throws IOException {
    if (channel == null || !channel.isOpen()) {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      channel =
          FileChannel.open(
              path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }
    return channel;
  }

  private void closeQuietly() {
    if (channel != null) {
      try {
        channel.close();
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
