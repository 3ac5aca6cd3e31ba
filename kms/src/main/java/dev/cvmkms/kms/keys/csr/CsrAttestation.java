package dev.cvmkms.kms.keys.csr;

import java.util.Arrays;

/**
 * The attestation a CSR carries, still unparsed: the attestation module decodes and verifies it
 * (spec §10.2, §4.6 step 3). The variant also fixes the CSR version.
 */
public sealed interface CsrAttestation {

  /**
   * V2: {@code VersionedAttestation} wire bytes (first byte {@code 0x00} for V0 SCALE, a msgpack
   * map prefix for V1), at most {@link ScaleCsr#MAX_ATTESTATION_BYTES}. Only the framing byte and
   * size are checked here; the full decode belongs to the attestation module, whose failures are
   * also "Failed to parse csr" upstream.
   */
  @SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare the array contents
  record Versioned(byte[] bytes) implements CsrAttestation {
    public Versioned {
      bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
      return bytes.clone();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Versioned o && Arrays.equals(bytes, o.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return "Versioned[" + bytes.length + " bytes]";
    }
  }

  /** V1 (legacy TDX): the raw quote and the JSON event log (a list of TdxEvent). */
  @SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare the array contents
  record LegacyTdx(byte[] quote, byte[] eventLog) implements CsrAttestation {
    public LegacyTdx {
      quote = quote.clone();
      eventLog = eventLog.clone();
    }

    @Override
    public byte[] quote() {
      return quote.clone();
    }

    @Override
    public byte[] eventLog() {
      return eventLog.clone();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof LegacyTdx o
          && Arrays.equals(quote, o.quote)
          && Arrays.equals(eventLog, o.eventLog);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(quote) * 31 + Arrays.hashCode(eventLog);
    }

    @Override
    public String toString() {
      return "LegacyTdx[quote=" + quote.length + " bytes, eventLog=" + eventLog.length + " bytes]";
    }
  }
}
