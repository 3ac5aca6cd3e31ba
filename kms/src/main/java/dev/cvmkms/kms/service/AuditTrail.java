package dev.cvmkms.kms.service;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What one audited request learned about its caller, filled in as the RPC proceeds (identity is
 * known only after the attestation is read) and turned into one audit line when it ends. Holds
 * identifiers only, never key material.
 */
public final class AuditTrail {
  /** The decision column. */
  public enum Decision {
    ALLOW,
    DENY,
    ERROR
  }

  private final String rpc;
  private final String caller;
  private final Instant started;
  private volatile String appId = "";
  private volatile String instanceId = "";
  private volatile String composeHash = "";

  public AuditTrail(String rpc, String caller, Instant started) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
    this.caller = Objects.requireNonNull(caller, "caller");
    this.started = Objects.requireNonNull(started, "started");
  }

  /** The caller's identity from its attestation (hex; the app id even if not 20 bytes). */
  public void identify(AppInfo app) {
    HexFormat hex = HexFormat.of();
    this.appId = hex.formatHex(app.appId());
    this.instanceId = hex.formatHex(app.instanceId());
    this.composeHash = hex.formatHex(app.composeHash());
  }

  /** Only the app id is known (GetAppEnvEncryptPubKey). */
  public void identifyApp(byte[] appId) {
    this.appId = HexFormat.of().formatHex(appId);
  }

  public String rpc() {
    return rpc;
  }

  /** The JSON fields of the line for a successful request. */
  public Map<String, Object> allowed() {
    return line(Decision.ALLOW, "");
  }

  /**
   * The line for a failed request: refusals (bad request, not attested, denied) are {@code deny},
   * unavailable dependencies and bugs are {@code error}. The reason is the caller-visible text.
   */
  public Map<String, Object> failed(Throwable cause) {
    Throwable t = cause;
    while (!(t instanceof KmsException) && t != null && t.getCause() != null && t != t.getCause()) {
      t = t.getCause();
    }
    if (t instanceof KmsException k) {
      Decision d =
          switch (k.kind()) {
            case INVALID_REQUEST, NOT_ATTESTED, DENIED -> Decision.DENY;
            case UPSTREAM_UNAVAILABLE, INTERNAL -> Decision.ERROR;
          };
      return line(d, k.publicMessage());
    }
    return line(Decision.ERROR, "internal error");
  }

  private Map<String, Object> line(Decision decision, String reason) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("time", started.toString());
    m.put("rpc", rpc);
    m.put("caller", caller);
    m.put("app_id", appId);
    m.put("instance_id", instanceId);
    m.put("compose_hash", composeHash);
    m.put("decision", decision.name().toLowerCase(java.util.Locale.ROOT));
    m.put("reason", reason);
    return m;
  }

  @Override
  public String toString() {
    return "AuditTrail[" + rpc + ", " + caller + ", app=" + appId + "]";
  }
}
