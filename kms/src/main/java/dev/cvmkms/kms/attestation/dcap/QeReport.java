package dev.cvmkms.kms.attestation.dcap;

/** The quoting enclave's SGX report body (384 bytes) from the certification data. */
@SuppressWarnings("ArrayRecordComponent") // a view of the quote's bytes; never compared or hashed
public record QeReport(
    byte[] raw,
    byte[] cpuSvn,
    long miscSelect,
    byte[] attributes,
    byte[] mrEnclave,
    byte[] mrSigner,
    int isvProdId,
    int isvSvn,
    byte[] reportData) {

  public static final int SIZE = 384;

  static QeReport parse(byte[] raw) {
    ByteReader r = new ByteReader(raw, 0, raw.length);
    byte[] cpuSvn = r.bytes(16, "qe.cpu_svn");
    long misc = r.u32("qe.misc_select");
    r.bytes(12 + 16, "qe.reserved1+isv_ext_prod_id");
    byte[] attributes = r.bytes(16, "qe.attributes");
    byte[] mrEnclave = r.bytes(32, "qe.mr_enclave");
    r.bytes(32, "qe.reserved2");
    byte[] mrSigner = r.bytes(32, "qe.mr_signer");
    r.bytes(32 + 64, "qe.reserved3+config_id");
    int prodId = r.u16("qe.isv_prod_id");
    int svn = r.u16("qe.isv_svn");
    r.bytes(2 + 42 + 16, "qe.config_svn+reserved4+isv_family_id");
    byte[] reportData = r.bytes(64, "qe.report_data");
    return new QeReport(
        raw, cpuSvn, misc, attributes, mrEnclave, mrSigner, prodId, svn, reportData);
  }

  /** SGX ATTRIBUTES.DEBUG is bit 1 of the first byte. */
  public boolean isDebug() {
    return (attributes[0] & 0x02) != 0;
  }
}
