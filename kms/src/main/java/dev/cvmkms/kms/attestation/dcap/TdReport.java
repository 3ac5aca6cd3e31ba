package dev.cvmkms.kms.attestation.dcap;

import org.jspecify.annotations.Nullable;

/**
 * The TD report body of a quote (TD 1.0, 584 bytes, or TD 1.5, 648 bytes). Arrays are the quote's
 * bytes as-is (MRs big-endian by convention, attributes little-endian); callers must not modify.
 * {@code teeTcbSvn2} and {@code mrServiceTd} are null for a TD 1.0 body.
 */
@SuppressWarnings("ArrayRecordComponent") // a view of the quote's bytes; never compared or hashed
public record TdReport(
    byte[] teeTcbSvn,
    byte[] mrSeam,
    byte[] mrSignerSeam,
    byte[] seamAttributes,
    byte[] tdAttributes,
    byte[] xfam,
    byte[] mrTd,
    byte[] mrConfigId,
    byte[] mrOwner,
    byte[] mrOwnerConfig,
    byte[] rtmr0,
    byte[] rtmr1,
    byte[] rtmr2,
    byte[] rtmr3,
    byte[] reportData,
    byte @Nullable [] teeTcbSvn2,
    byte @Nullable [] mrServiceTd) {

  public static final int TD10_SIZE = 584;
  public static final int TD15_SIZE = 648;

  static TdReport read(ByteReader r, boolean td15) {
    return new TdReport(
        r.bytes(16, "tee_tcb_svn"),
        r.bytes(48, "mr_seam"),
        r.bytes(48, "mr_signer_seam"),
        r.bytes(8, "seam_attributes"),
        r.bytes(8, "td_attributes"),
        r.bytes(8, "xfam"),
        r.bytes(48, "mr_td"),
        r.bytes(48, "mr_config_id"),
        r.bytes(48, "mr_owner"),
        r.bytes(48, "mr_owner_config"),
        r.bytes(48, "rtmr0"),
        r.bytes(48, "rtmr1"),
        r.bytes(48, "rtmr2"),
        r.bytes(48, "rtmr3"),
        r.bytes(64, "report_data"),
        td15 ? r.bytes(16, "tee_tcb_svn2") : null,
        td15 ? r.bytes(48, "mr_service_td") : null);
  }

  public byte[] rtmr(int index) {
    return switch (index) {
      case 0 -> rtmr0;
      case 1 -> rtmr1;
      case 2 -> rtmr2;
      case 3 -> rtmr3;
      default -> throw new IllegalArgumentException("RTMR index " + index);
    };
  }

  /** TDATTRIBUTES as the little-endian u64 the TDX spec defines. */
  public long tdAttributesValue() {
    return ByteReader.u64(tdAttributes);
  }

  public boolean isDebug() {
    return (tdAttributes[0] & 1) != 0;
  }

  public boolean isTd15() {
    return teeTcbSvn2 != null;
  }
}
