package dev.cvmkms.kms.upstream;

import dev.cvmkms.kms.config.OutboundClientConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One upstream's HTTP transport on the JDK client's asynchronous API: no caller thread ever waits
 * on the network. The client's callbacks run on its own bounded pool ({@code kms-<name>-http}, 2
 * threads, bounded queue), never on a crypto worker or an event loop. At most {@code
 * max_connections} exchanges are in flight; a call beyond that is refused at once ({@link
 * Outcome#THROTTLED}) rather than queued. Each exchange is bounded from request to last body byte
 * by its timeout (the request is cancelled when it fires) and its body by {@code
 * max_response_bytes}.
 */
public final class JdkHttp implements AutoCloseable {
  /** A complete response with its (capped) body. */
  @SuppressWarnings("ArrayRecordComponent") // a response as received; never compared or hashed
  public record Response(int status, HttpHeaders headers, byte[] body) {
    public @Nullable String header(String name) {
      return headers.firstValue(name).orElse(null);
    }
  }

  private final String name;
  private final HttpClient client;
  private final ThreadPoolExecutor executor;
  private final Semaphore slots;
  private final Timers timers;
  private final Clock clock;
  private final int maxBytes;

  public JdkHttp(String name, OutboundClientConfig config, Timers timers, Clock clock) {
    this.name = name;
    this.timers = timers;
    this.clock = clock;
    this.maxBytes = Math.toIntExact(config.maxResponseBytes());
    this.slots = new Semaphore(config.maxConnections());
    AtomicInteger n = new AtomicInteger();
    this.executor =
        new ThreadPoolExecutor(
            2,
            2,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(256),
            r -> {
              Thread t = new Thread(r, "kms-" + name + "-http-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.executor.allowCoreThreadTimeOut(true);
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .executor(executor)
            .build();
  }

  /**
   * Sends one request (any status is a response; transport failures are {@link
   * UpstreamException}s). {@code what} names it in errors, e.g. {@code GET /tdx/...}.
   */
  public CompletableFuture<Response> send(
      HttpRequest.Builder request, String what, long timeoutMs) {
    if (!slots.tryAcquire()) {
      return CompletableFuture.failedFuture(
          new UpstreamException(
              Outcome.THROTTLED, name + " " + what + ": all connections are busy"));
    }
    CompletableFuture<Response> result = new CompletableFuture<>();
    HttpRequest req = request.timeout(Duration.ofMillis(Math.max(1, timeoutMs))).build();
    CompletableFuture<HttpResponse<byte[]>> sent;
    try {
      sent = client.sendAsync(req, info -> capped(info, what));
    } catch (RuntimeException e) {
      slots.release();
      return CompletableFuture.failedFuture(transportError(e, what, timeoutMs));
    }
    timers.schedule(
        timeoutMs,
        () -> {
          if (result.completeExceptionally(
              new UpstreamException(
                  Outcome.TIMEOUT, name + " " + what + " timed out after " + timeoutMs + " ms"))) {
            sent.cancel(true);
          }
        });
    // The callback settles `result` itself; the stage whenComplete returns only repeats sent's.
    CompletableFuture<HttpResponse<byte[]>> unused =
        sent.whenComplete(
            (resp, e) -> {
              slots.release();
              if (e != null) {
                result.completeExceptionally(transportError(e, what, timeoutMs));
              } else {
                result.complete(new Response(resp.statusCode(), resp.headers(), resp.body()));
              }
            });
    return result;
  }

  /** Fails a non-2xx response with its outcome and Retry-After. */
  public Response requireOk(Response r, String what) {
    if (r.status() / 100 == 2) {
      return r;
    }
    throw new UpstreamException(
        Outcome.ofStatus(r.status()),
        name + " " + what + ": HTTP " + r.status(),
        RetryAfter.nanos(r.header("Retry-After"), clock));
  }

  private HttpResponse.BodySubscriber<byte[]> capped(HttpResponse.ResponseInfo info, String what) {
    long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
    return new CappedBody(declared > maxBytes, maxBytes, () -> oversize(what));
  }

  private UpstreamException oversize(String what) {
    return new UpstreamException(
        Outcome.ERROR, name + " " + what + ": response larger than " + maxBytes + " bytes");
  }

  /** Maps JDK client errors to outcomes; their messages may carry the URL, so only types go out. */
  private UpstreamException transportError(Throwable e, String what, long timeoutMs) {
    Throwable t = e;
    while ((t instanceof CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof IOException && t.getCause() instanceof UpstreamException u) {
      return u;
    }
    if (t instanceof UpstreamException u) {
      return u;
    }
    String prefix = name + " " + what;
    if (t instanceof HttpConnectTimeoutException || t instanceof HttpTimeoutException) {
      return new UpstreamException(
          Outcome.TIMEOUT, prefix + " timed out after " + timeoutMs + " ms");
    }
    if (t instanceof java.util.concurrent.RejectedExecutionException) {
      return new UpstreamException(Outcome.THROTTLED, prefix + ": client queue is full");
    }
    String why;
    if (t instanceof ConnectException) {
      why = "connection refused";
    } else if (t instanceof IOException
        && t.getMessage() != null
        && (t.getMessage().toLowerCase(Locale.ROOT).contains("reset")
            || t.getMessage().toLowerCase(Locale.ROOT).contains("closed"))) {
      why = "connection reset";
    } else {
      why = t.getClass().getSimpleName();
    }
    return new UpstreamException(Outcome.ERROR, prefix + " failed: " + why);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** Accumulates at most {@code max} bytes; past that the exchange is cancelled and fails. */
  private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final boolean refuse;
    private final int max;
    private final java.util.function.Supplier<UpstreamException> tooLarge;
    private final CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final ByteArrayOutputStream acc = new ByteArrayOutputStream();
    private Flow.@Nullable Subscription subscription; // set by onSubscribe, which Flow calls first

    CappedBody(boolean refuse, int max, java.util.function.Supplier<UpstreamException> tooLarge) {
      this.refuse = refuse;
      this.max = max;
      this.tooLarge = tooLarge;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (refuse) {
        s.cancel();
        body.completeExceptionally(tooLarge.get());
        return;
      }
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (body.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (acc.size() + b.remaining() > max) {
          Flow.Subscription s = subscription;
          if (s != null) {
            s.cancel();
          }
          body.completeExceptionally(tooLarge.get());
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        acc.writeBytes(chunk);
      }
    }

    @Override
    public void onError(Throwable t) {
      body.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      body.complete(acc.toByteArray());
    }
  }
}
