package dev.cvmkms.kms.attestation.dcap;

import static dev.cvmkms.kms.attestation.dcap.JsonFields.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;

/** Intel TD QE Identity (v2), parsed from its exact signed JSON text. */
@SuppressWarnings("ArrayRecordComponent") // parsed collateral; never compared or hashed
public record QeIdentity(
    String id,
    int version,
    Instant issueDate,
    Instant nextUpdate,
    byte[] miscSelect,
    byte[] miscSelectMask,
    byte[] attributes,
    byte[] attributesMask,
    byte[] mrSigner,
    int isvProdId,
    List<TcbInfo.IsvLevel> levels) {

  public static QeIdentity parse(String json) {
    JsonNode n = JsonFields.parse(json, "QE Identity");
    return new QeIdentity(
        str(n, "id"),
        integer(n, "version"),
        time(n, "issueDate"),
        time(n, "nextUpdate"),
        hex(n, "miscselect", 4),
        hex(n, "miscselectMask", 4),
        hex(n, "attributes", 16),
        hex(n, "attributesMask", 16),
        hex(n, "mrsigner", 32),
        integer(n, "isvprodid"),
        TcbInfo.isvLevels(n));
  }
}
