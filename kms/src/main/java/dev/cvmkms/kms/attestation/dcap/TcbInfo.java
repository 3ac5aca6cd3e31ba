package dev.cvmkms.kms.attestation.dcap;

import static dev.cvmkms.kms.attestation.dcap.JsonFields.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Intel TDX TCB Info (v3), parsed from its exact signed JSON text. */
public record TcbInfo(
    String id,
    int version,
    Instant issueDate,
    Instant nextUpdate,
    String fmspc,
    String pceId,
    int tcbEvaluationDataNumber,
    ModuleIdentity tdxModule,
    List<ModuleIdentity> tdxModuleIdentities,
    List<Level> levels) {

  /** A TDX module identity; {@code levels} is empty for the plain {@code tdxModule} member. */
  @SuppressWarnings("ArrayRecordComponent") // parsed collateral; never compared or hashed
  public record ModuleIdentity(
      String id,
      byte[] mrSigner,
      byte[] attributes,
      byte[] attributesMask,
      List<IsvLevel> levels) {}

  /** A level keyed by one ISV SVN (module identities, QE Identity). */
  public record IsvLevel(int isvSvn, TcbStatus status, List<String> advisoryIds) {}

  /** A platform TCB level: 16 SGX components, PCESVN and 16 TDX components. */
  @SuppressWarnings("ArrayRecordComponent") // parsed collateral; sorted, never equals()/hashed
  public record Level(
      int[] sgxComponents,
      int pceSvn,
      int[] tdxComponents,
      TcbStatus status,
      List<String> advisoryIds) {}

  /** Intel's order: SGX components, then PCESVN, then TDX components, highest first. */
  static final Comparator<Level> DESCENDING =
      ((Comparator<Level>)
              (a, b) -> {
                int c = java.util.Arrays.compare(a.sgxComponents, b.sgxComponents);
                if (c != 0) {
                  return c;
                }
                c = Integer.compare(a.pceSvn, b.pceSvn);
                return c != 0 ? c : java.util.Arrays.compare(a.tdxComponents, b.tdxComponents);
              })
          .reversed();

  public static TcbInfo parse(String json) {
    JsonNode n = JsonFields.parse(json, "TCB Info");
    JsonNode mod = node(n, "tdxModule");
    ModuleIdentity tdxModule =
        new ModuleIdentity(
            "",
            hex(mod, "mrsigner", 48),
            hex(mod, "attributes", 8),
            hex(mod, "attributesMask", 8),
            List.of());
    List<ModuleIdentity> ids = new ArrayList<>();
    JsonNode idsNode = n.get("tdxModuleIdentities");
    if (idsNode != null && idsNode.isArray()) {
      for (JsonNode m : idsNode) {
        ids.add(
            new ModuleIdentity(
                str(m, "id"),
                hex(m, "mrsigner", 48),
                hex(m, "attributes", 8),
                hex(m, "attributesMask", 8),
                isvLevels(m)));
      }
    }
    List<Level> levels = new ArrayList<>();
    for (JsonNode l : array(n, "tcbLevels")) {
      JsonNode tcb = node(l, "tcb");
      levels.add(
          new Level(
              components(tcb, "sgxtcbcomponents"),
              integer(tcb, "pcesvn"),
              components(tcb, "tdxtcbcomponents"),
              TcbStatus.fromIntel(str(l, "tcbStatus")),
              advisories(l)));
    }
    if (levels.isEmpty()) {
      throw bad("TCB Info has no tcbLevels");
    }
    levels.sort(DESCENDING);
    return new TcbInfo(
        str(n, "id"),
        integer(n, "version"),
        time(n, "issueDate"),
        time(n, "nextUpdate"),
        str(n, "fmspc"),
        str(n, "pceId"),
        integer(n, "tcbEvaluationDataNumber"),
        tdxModule,
        List.copyOf(ids),
        List.copyOf(levels));
  }

  static List<IsvLevel> isvLevels(JsonNode owner) {
    List<IsvLevel> out = new ArrayList<>();
    for (JsonNode l : array(owner, "tcbLevels")) {
      out.add(
          new IsvLevel(
              integer(node(l, "tcb"), "isvsvn"),
              TcbStatus.fromIntel(str(l, "tcbStatus")),
              advisories(l)));
    }
    if (out.isEmpty()) {
      throw bad("identity has no tcbLevels");
    }
    // JSON order is descending; sort anyway so the first match is the highest level.
    out.sort(Comparator.comparingInt(IsvLevel::isvSvn).reversed());
    return List.copyOf(out);
  }

  private static int[] components(JsonNode tcb, String f) {
    JsonNode a = array(tcb, f);
    if (a.size() != 16) {
      throw bad(f + " has " + a.size() + " components, not 16");
    }
    int[] out = new int[16];
    for (int i = 0; i < 16; i++) {
      out[i] = integer(a.get(i), "svn");
    }
    return out;
  }
}
