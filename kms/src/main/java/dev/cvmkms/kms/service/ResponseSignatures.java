package dev.cvmkms.kms.service;

import com.github.benmanes.caffeine.cache.AsyncCacheLoader;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.cvmkms.kms.keys.ResponseSignature;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.rpc.ResponseSigner;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Signs the public RPCs' responses with the root K256 key ({@link ResponseSignature}), at most once
 * per second per distinct (method, body), with refresh-ahead: a signature older than {@link
 * #REFRESH} is re-made in the background on the crypto pool while the current one is still served,
 * and one older than {@link #MAX_AGE} is never served. So a GetMeta storm costs a cache lookup per
 * request on the event loop and one ECDSA signature per second on the crypto pool, and requests
 * wait for signing only on a body's first sight (concurrent first sights share one signing). {@code
 * X-Kms-Timestamp} is the second the signature was made: normally at most a second or two before
 * the response.
 */
public final class ResponseSignatures implements ResponseSigner {
  /** The RPCs whose responses are signed: the ones anyone may call (spec §4, issue 15). */
  public static final List<String> SIGNED =
      List.of("GetMeta", "GetTempCaCert", "GetAppEnvEncryptPubKey");

  /** Distinct (method, body) entries kept; more evict the least used. */
  static final int MAX_ENTRIES = 4096;

  /** A signature this old is re-made on the next request (in the background). */
  static final Duration REFRESH = Duration.ofSeconds(1);

  /** A signature this old is dropped: the next request waits for a fresh one. */
  static final Duration MAX_AGE = Duration.ofSeconds(5);

  /** The body (an owned copy) is part of the key: a hit costs a vectorised hash and compare. */
  private static final class Key {
    final String method;
    final byte[] body;
    final int hash;

    Key(String method, byte[] body) {
      this.method = method;
      this.body = body;
      this.hash = method.hashCode() * 31 + Arrays.hashCode(body);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k
          && hash == k.hash
          && method.equals(k.method)
          && Arrays.equals(body, k.body);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private final byte[] k256Scalar;
  private final CryptoPool crypto;
  private final Clock clock;
  private final AsyncLoadingCache<Key, Signed> cache;
  private final AtomicLong made = new AtomicLong();

  public ResponseSignatures(byte[] k256Scalar, CryptoPool crypto, Clock clock) {
    if (!Secp256k1.isValidPrivateKey(k256Scalar)) {
      throw new IllegalArgumentException("not a valid K256 root key");
    }
    this.k256Scalar = k256Scalar.clone();
    this.crypto = Objects.requireNonNull(crypto, "crypto");
    this.clock = Objects.requireNonNull(clock, "clock");
    // Freshness is judged by each signature's own time, not by when the cache recorded it: an
    // async entry's write time is taken when Caffeine handles the completion, which can lag the
    // signing (under load, or with a test's clock moved meanwhile).
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(MAX_ENTRIES)
            .expireAfter(Expiry.<Key, Signed>writing((key, signed) -> remaining(signed)))
            .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
            .buildAsync(new Loader());
  }

  /** Headers and the instant (epoch ms) they were signed. */
  private record Signed(Map<String, String> headers, long madeAtMillis) {}

  /** Time left before MAX_AGE; zero once past it (never negative). */
  private Duration remaining(Signed signed) {
    return Duration.ofMillis(Math.max(0, MAX_AGE.toMillis() - ageMillis(signed)));
  }

  private long ageMillis(Signed signed) {
    return Math.max(0, clock.millis() - signed.madeAtMillis());
  }

  /** Signs on the crypto pool, with the second of the signing. */
  private final class Loader implements AsyncCacheLoader<Key, Signed> {
    @Override
    public CompletableFuture<Signed> asyncLoad(Key key, Executor ignored) {
      return crypto
          .run(
              () -> {
                long now = clock.millis();
                long second = Math.floorDiv(now, 1000L);
                return new Signed(
                    headers(ResponseSignature.sign(k256Scalar, second, key.method, key.body)), now);
              })
          .toCompletionStage()
          .toCompletableFuture();
    }
  }

  @Override
  public Future<Map<String, String>> sign(String method, byte[] body) {
    Key key = new Key(method, body.clone());
    CompletableFuture<Signed> signed = cache.get(key);
    if (signed.isDone() && !signed.isCompletedExceptionally()) {
      Signed current = signed.join();
      if (ageMillis(current) >= REFRESH.toMillis()) {
        // In the background; Caffeine joins concurrent refreshes of one key into one.
        cache.synchronous().refresh(key);
      }
      return Future.succeededFuture(current.headers());
    }
    return Future.fromCompletionStage(signed.thenApply(Signed::headers));
  }

  private Map<String, String> headers(ResponseSignature s) {
    made.incrementAndGet();
    return Map.of(
        ResponseSignature.TIMESTAMP_HEADER,
        s.timestampHeader(),
        ResponseSignature.SIGNATURE_HEADER,
        s.signatureHeader());
  }

  /** Signatures computed so far. */
  public long signaturesMade() {
    return made.get();
  }

  @Override
  public String toString() {
    return "ResponseSignatures[k256=<redacted>]";
  }
}
