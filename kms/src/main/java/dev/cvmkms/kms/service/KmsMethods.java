package dev.cvmkms.kms.service;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import dev.cvmkms.kms.config.BodyLimits;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.proto.GetKmsKeyRequest;
import dev.cvmkms.kms.proto.SignCertRequest;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.PrpcMethod;
import io.vertx.core.Future;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * The KMS method table: the RPCs that use the caller's identity first pass the edge ({@link
 * CallerAttestation}, spec §4.0(A)), and the key-release and signing RPCs are audited, the line
 * written before the response leaves.
 */
public final class KmsMethods {
  /** The RPCs whose every outcome is audited: they release or sign with key material. */
  public static final List<String> AUDITED =
      List.of("GetAppKey", "GetKmsKey", "GetAppEnvEncryptPubKey", "SignCert", "GetTempCaCert");

  /**
   * The RPCs that use the caller's identity and so verify a presented client certificate's
   * attestation at the edge; every other RPC ignores it (issue #13: GetMeta must not pay for, or
   * wait on, a caller's quote).
   */
  public static final java.util.Set<String> VERIFIES_CALLER =
      java.util.Set.of("GetAppKey", "GetKmsKey", "SignCert");

  /** A handler that also fills in the request's audit trail. */
  @FunctionalInterface
  public interface AuditedHandler<Req, Resp> {
    Future<Resp> handle(Caller caller, Req request, AuditTrail trail);
  }

  private final CallerAttestation edge;
  private final AuditLog audit;
  private final Clock clock;
  private final BodyLimits limits;

  public KmsMethods(CallerAttestation edge, AuditLog audit, Clock clock, BodyLimits limits) {
    this.edge = Objects.requireNonNull(edge, "edge");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /** All six KMS RPCs of {@code kms}. */
  public List<PrpcMethod<?, ?>> table(KmsService kms) {
    return List.of(
        plain("GetMeta", Empty.getDefaultInstance(), kms::getMeta),
        audited(
            "GetTempCaCert",
            Empty.getDefaultInstance(),
            (caller, req, trail) -> kms.getTempCaCert(caller, req)),
        audited("GetAppKey", GetAppKeyRequest.getDefaultInstance(), kms::getAppKey),
        audited("GetKmsKey", GetKmsKeyRequest.getDefaultInstance(), kms::getKmsKey),
        audited("GetAppEnvEncryptPubKey", AppId.getDefaultInstance(), kms::getAppEnvEncryptPubKey),
        audited("SignCert", SignCertRequest.getDefaultInstance(), kms::signCert));
  }

  private Future<Caller> edge(String method, Caller caller) {
    return VERIFIES_CALLER.contains(method) ? edge.verify(caller) : Future.succeededFuture(caller);
  }

  /** A method behind the edge only. */
  public <Req extends Message, Resp extends Message> PrpcMethod<Req, Resp> plain(
      String name, Req requestDefault, BiFunction<Caller, Req, Future<Resp>> handler) {
    return new PrpcMethod<>(
        name,
        requestDefault,
        (caller, request) -> edge(name, caller).compose(c -> handler.apply(c, request)),
        limits.limitFor(name));
  }

  /** A method behind the edge whose outcome, edge failures included, is audited. */
  public <Req extends Message, Resp extends Message> PrpcMethod<Req, Resp> audited(
      String name, Req requestDefault, AuditedHandler<Req, Resp> handler) {
    return new PrpcMethod<>(
        name,
        requestDefault,
        (caller, request) -> {
          AuditTrail trail = new AuditTrail(name, caller.remoteAddress(), clock.instant());
          Future<Resp> outcome;
          try {
            outcome = edge(name, caller).compose(c -> handler.handle(c, request, trail));
          } catch (RuntimeException e) {
            outcome = Future.failedFuture(e);
          }
          return audit.sealed(trail, outcome);
        },
        limits.limitFor(name));
  }
}
