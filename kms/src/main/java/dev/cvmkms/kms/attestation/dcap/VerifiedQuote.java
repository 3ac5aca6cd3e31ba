package dev.cvmkms.kms.attestation.dcap;

import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A quote that passed DCAP verification. {@code status} is the combined Intel TCB status; whether
 * it is good enough to boot is the auth policy's decision. {@code moduleStatus} is null when the
 * quote carries no TDX module major version (TEE_TCB_SVN[1] = 0).
 */
public record VerifiedQuote(
    TdxQuote quote,
    TcbStatus status,
    List<String> advisoryIds,
    TcbStatus platformStatus,
    @Nullable TcbStatus moduleStatus,
    TcbStatus qeStatus,
    SgxExtension pck,
    X509Certificate pckCertificate) {

  /** The PPID from the verified PCK certificate (dstack's raw device id). */
  public byte[] ppid() {
    return pck.ppid();
  }
}
