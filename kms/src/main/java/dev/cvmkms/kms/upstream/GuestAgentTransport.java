package dev.cvmkms.kms.upstream;

import dev.cvmkms.kms.attestation.agent.GuestAgentClient;
import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The guest agent behind the {@code guest_agent} {@link Upstream}. The agent's socket API is
 * blocking, so each attempt runs on this client's own bounded pool ({@code kms-guest_agent}, 2
 * threads, 16 queued, beyond that refused at once), never on a crypto worker; the caller waits at
 * most the deadline. The agent's calls (quote, attest, info) are idempotent and retried.
 */
public final class GuestAgentTransport implements GuestAgentClient.Transport, AutoCloseable {
  public static final String UPSTREAM = "guest_agent";

  private final GuestAgentClient.Transport raw;
  private final Upstream upstream;
  private final ThreadPoolExecutor pool;
  private final Timers timers;

  public GuestAgentTransport(GuestAgentClient.Transport raw, Upstream upstream, Timers timers) {
    this.raw = raw;
    this.upstream = upstream;
    this.timers = timers;
    AtomicInteger n = new AtomicInteger();
    this.pool =
        new ThreadPoolExecutor(
            2,
            2,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(16),
            r -> {
              Thread t = new Thread(r, "kms-guest_agent-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.pool.allowCoreThreadTimeOut(true);
  }

  @Override
  public byte[] post(String path, byte[] json) throws IOException {
    String what = "POST " + path;
    CompletableFuture<byte[]> call =
        upstream.call(what, true, timeout -> attempt(path, json, what, timeout));
    long waitMs = upstream.config().deadline().toMillis() + 1_000;
    try {
      return call.get(waitMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | CompletionException e) {
      Throwable t = e.getCause() == null ? e : e.getCause();
      throw new IOException(t.getMessage());
    } catch (TimeoutException e) {
      throw new IOException("no answer within " + waitMs + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }

  private CompletableFuture<byte[]> attempt(String path, byte[] json, String what, long timeoutMs) {
    CompletableFuture<byte[]> f = new CompletableFuture<>();
    try {
      pool.execute(
          () -> {
            try {
              f.complete(raw.post(path, json));
            } catch (IOException | RuntimeException e) {
              f.completeExceptionally(classify(e, what));
            }
          });
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new UpstreamException(Outcome.THROTTLED, UPSTREAM + " " + what + ": too many calls"));
    }
    timers.schedule(
        timeoutMs,
        () ->
            f.completeExceptionally(
                new UpstreamException(
                    Outcome.TIMEOUT,
                    UPSTREAM + " " + what + " timed out after " + timeoutMs + " ms")));
    return f;
  }

  private static UpstreamException classify(Exception e, String what) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    Outcome o = Outcome.ERROR;
    if (m.startsWith("HTTP ")) {
      try {
        o = Outcome.ofStatus(Integer.parseInt(m.substring(5, 8)));
      } catch (RuntimeException ignored) {
        o = Outcome.ERROR;
      }
    } else if (m.toLowerCase(java.util.Locale.ROOT).contains("timed out")
        || e instanceof java.net.SocketTimeoutException
        || e instanceof java.net.http.HttpTimeoutException) {
      o = Outcome.TIMEOUT;
    }
    return new UpstreamException(o, UPSTREAM + " " + what + ": " + m);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
