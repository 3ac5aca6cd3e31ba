package dev.cvmkms.kms.attestation;

/**
 * Makes TDX quotes inside the TD: configfs-tsm, the dstack guest agent, or the mock. Calls may
 * block for seconds (the host's quoting service), so callers run them on a worker thread.
 */
public interface QuoteProvider {
  /**
   * A raw DCAP quote whose REPORTDATA is {@code reportData}.
   *
   * @param reportData exactly 64 bytes
   * @throws AttestationException with {@link AttestationException.Reason#QUOTE_UNAVAILABLE}
   */
  byte[] quote(byte[] reportData);

  /** For logs and errors: "configfs", "agent" or "mock". */
  String name();

  static void requireReportData(byte[] reportData) {
    if (reportData == null || reportData.length != 64) {
      throw new IllegalArgumentException("report data must be exactly 64 bytes");
    }
  }
}
