package dev.cvmkms.kms.service;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.cvmkms.kms.keys.ResponseSignature;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import dev.cvmkms.kms.rpc.ResponseSigner;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Signs the public RPCs' responses with the root K256 key ({@link ResponseSignature}), at most once
 * per second per distinct (method, body): the signature of the current second is cached, so a
 * GetMeta storm costs one SHA-256 and a cache hit per request on the event loop, and one ECDSA
 * signature per second on the crypto pool. Concurrent misses for the same key share one signing.
 * The last signed body of each method is also kept as is: a repeat of it within the second (the
 * GetMeta storm) is found by comparing bytes, without hashing.
 */
public final class ResponseSignatures implements ResponseSigner {
  /** The RPCs whose responses are signed: the ones anyone may call (spec §4, issue 15). */
  public static final List<String> SIGNED =
      List.of("GetMeta", "GetTempCaCert", "GetAppEnvEncryptPubKey");

  /** Distinct (method, body, second) entries kept; more evict the least used. */
  static final int MAX_ENTRIES = 4096;

  private record Key(String method, ByteBuffer bodySha256, long second) {}

  private record Last(byte[] body, long second, Map<String, String> headers) {}

  private final byte[] k256Scalar;
  private final CryptoPool crypto;
  private final Clock clock;
  private final AsyncCache<Key, Map<String, String>> cache;
  private final AtomicLong made = new AtomicLong();
  private final Map<String, Last> last = new ConcurrentHashMap<>(); // one entry per signed method

  public ResponseSignatures(byte[] k256Scalar, CryptoPool crypto, Clock clock) {
    if (!Secp256k1.isValidPrivateKey(k256Scalar)) {
      throw new IllegalArgumentException("not a valid K256 root key");
    }
    this.k256Scalar = k256Scalar.clone();
    this.crypto = Objects.requireNonNull(crypto, "crypto");
    this.clock = Objects.requireNonNull(clock, "clock");
    // An entry is only ever used within its second; a few seconds cover clock steps and stragglers.
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(MAX_ENTRIES)
            .expireAfterWrite(Duration.ofSeconds(3))
            .buildAsync();
  }

  @Override
  public Future<Map<String, String>> sign(String method, byte[] body) {
    long second = Math.floorDiv(clock.millis(), 1000L);
    Last recent = last.get(method);
    if (recent != null && recent.second() == second && Arrays.equals(recent.body(), body)) {
      return Future.succeededFuture(recent.headers());
    }
    Key key = new Key(method, ByteBuffer.wrap(ResponseSignature.sha256(body)), second);
    CompletableFuture<Map<String, String>> signed =
        cache.get(
            key,
            (k, executor) ->
                crypto
                    .run(() -> headers(ResponseSignature.sign(k256Scalar, second, method, body)))
                    .toCompletionStage()
                    .toCompletableFuture());
    if (signed.isDone() && !signed.isCompletedExceptionally()) {
      Map<String, String> headers = signed.join();
      if (SIGNED.contains(method)) {
        last.put(method, new Last(body.clone(), second, headers));
      }
      return Future.succeededFuture(headers);
    }
    return Future.fromCompletionStage(signed);
  }

  private Map<String, String> headers(ResponseSignature s) {
    made.incrementAndGet();
    return Map.of(
        ResponseSignature.TIMESTAMP_HEADER,
        s.timestampHeader(),
        ResponseSignature.SIGNATURE_HEADER,
        s.signatureHeader());
  }

  /** Signatures computed so far (cache misses). */
  public long signaturesMade() {
    return made.get();
  }

  @Override
  public String toString() {
    return "ResponseSignatures[k256=<redacted>]";
  }
}
