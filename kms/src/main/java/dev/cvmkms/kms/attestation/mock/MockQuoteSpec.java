package dev.cvmkms.kms.attestation.mock;

/**
 * What a mock quote should contain. Fields are public and mutable on purpose: a test builds one
 * spec, bends one field and generates. Defaults give a quote that verifies UpToDate against the
 * healthy mock collateral.
 */
public final class MockQuoteSpec {
  /** SEPT_VE_DISABLE, as in every real quote. */
  public static final long DEFAULT_TD_ATTRIBUTES = 1L << 28;

  public int version = 4;
  public byte[] reportData = new byte[64];
  public byte[] mrTd = filled(48, 0x11);
  public byte[][] rtmr = {new byte[48], new byte[48], new byte[48], new byte[48]};
  public byte[] mrConfigId = new byte[48];
  public byte[] mrOwner = new byte[48];
  public byte[] mrOwnerConfig = new byte[48];
  public long tdAttributes = DEFAULT_TD_ATTRIBUTES;

  /** TEE_TCB_SVN; set [1] > 0 to exercise the TDX_xx module identity path. */
  public byte[] teeTcbSvn = new byte[16];

  public byte[] mrSignerSeam = new byte[48];
  public byte[] mrServiceTd = new byte[48];
  public byte[] qeMrSigner = filled(32, 0x44);
  public int qeIsvProdId = 1;
  public int qeIsvSvn = 1;

  /** Write a QE report whose report data does not commit to the attestation key. */
  public boolean breakQeBinding;

  /** Zero bytes after the quote, as real quotes have. */
  public int trailingPadding;

  public static byte[] filled(int n, int v) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) v);
    return b;
  }

  public MockQuoteSpec reportData(byte[] v) {
    if (v.length != 64) {
      throw new IllegalArgumentException("report data must be 64 bytes");
    }
    this.reportData = v.clone();
    return this;
  }

  public MockQuoteSpec rtmr3(byte[] v) {
    this.rtmr[3] = v.clone();
    return this;
  }
}
