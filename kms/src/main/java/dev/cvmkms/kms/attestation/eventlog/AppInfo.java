package dev.cvmkms.kms.attestation.eventlog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.dcap.TdReport;
import java.util.ArrayList;
import java.util.List;

/**
 * The app identity dstack derives from a verified TDX quote and its runtime events (kms-protocol
 * §10.5, {@code decode_app_info_ex}). Byte fields are raw; BootInfo hex-encodes them.
 *
 * <p>{@code bootTimeMr} selects what a KMS sees at key release: RTMR3 replayed only up to {@code
 * boot-mr-done} and no key provider. Lookups stop at the first {@code system-ready}.
 */
@SuppressWarnings("ArrayRecordComponent") // derived identity bytes; never compared or hashed
public record AppInfo(
    byte[] appId,
    byte[] composeHash,
    byte[] instanceId,
    byte[] deviceId,
    byte[] mrAggregated,
    byte[] mrSystem,
    byte[] osImageHash,
    byte[] keyProviderInfo,
    byte[] mrKeyProvider,
    byte[] rtmr3,
    List<byte[]> initScriptHashes) {

  public static final String SYSTEM_READY = "system-ready";
  private static final ObjectMapper JSON = new ObjectMapper();

  public static AppInfo derive(
      TdReport body, List<RuntimeEvent> events, byte[] ppid, String vmConfig, boolean bootTimeMr) {
    byte[] keyProvider = bootTimeMr ? new byte[0] : find(events, "key-provider");
    byte[] mrKeyProvider = keyProvider.length == 0 ? new byte[32] : Bytes.sha256(keyProvider);
    byte[] rtmr3 = Rtmr.replay(events, bootTimeMr ? Rtmr.BOOT_MR_DONE : null);
    byte[] mrSystem =
        Bytes.sha256(body.mrTd(), body.rtmr0(), body.rtmr1(), body.rtmr2(), mrKeyProvider);
    byte[] mrAggregated =
        Bytes.isZero(body.mrConfigId())
                && Bytes.isZero(body.mrOwner())
                && Bytes.isZero(body.mrOwnerConfig())
            ? Bytes.sha256(body.mrTd(), body.rtmr0(), body.rtmr1(), body.rtmr2(), rtmr3)
            : Bytes.sha256(
                body.mrTd(),
                body.rtmr0(),
                body.rtmr1(),
                body.rtmr2(),
                rtmr3,
                body.mrConfigId(),
                body.mrOwner(),
                body.mrOwnerConfig());
    List<byte[]> scripts = new ArrayList<>();
    for (RuntimeEvent e : events) {
      if (SYSTEM_READY.equals(e.name())) {
        break;
      }
      if ("init-script-hash".equals(e.name())) {
        scripts.add(e.payload());
      }
    }
    return new AppInfo(
        find(events, "app-id"),
        find(events, "compose-hash"),
        find(events, "instance-id"),
        Bytes.sha256(ppid),
        mrAggregated,
        mrSystem,
        osImageHash(vmConfig),
        keyProvider,
        mrKeyProvider,
        rtmr3,
        List.copyOf(scripts));
  }

  /** The payload of the first event named {@code name} before {@code system-ready}, or empty. */
  public static byte[] find(List<RuntimeEvent> events, String name) {
    for (RuntimeEvent e : events) {
      if (SYSTEM_READY.equals(e.name())) {
        break;
      }
      if (name.equals(e.name())) {
        return e.payload();
      }
    }
    return new byte[0];
  }

  /**
   * {@code os_image_hash} (hex) from a vm_config JSON string, unwrapping a nested {@code vm_config}
   * string field; empty when absent or unparsable (it is a host claim, not trusted here).
   */
  public static byte[] osImageHash(String vmConfig) {
    if (vmConfig == null || vmConfig.isBlank()) {
      return new byte[0];
    }
    try {
      JsonNode n = JSON.readTree(vmConfig);
      if (n != null && n.path("vm_config").isTextual()) {
        n = JSON.readTree(n.get("vm_config").asText());
      }
      if (n == null || !n.path("os_image_hash").isTextual()) {
        return new byte[0];
      }
      return Bytes.unhex(n.get("os_image_hash").asText(), "os_image_hash");
    } catch (java.io.IOException | AttestationException e) {
      return new byte[0];
    }
  }
}
