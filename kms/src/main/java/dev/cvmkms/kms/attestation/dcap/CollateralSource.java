package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import java.security.cert.X509Certificate;
import java.util.Locale;

/**
 * Where verification gets its collateral. Implementations may block (HTTP); callers run them off
 * the event loop. Failures are {@link Reason#COLLATERAL_UNAVAILABLE}.
 */
@FunctionalInterface
public interface CollateralSource {

  /** What collateral a quote needs: TCB Info per FMSPC, PCK CRL per CA kind. */
  record Key(String fmspc, String pckCa) {
    public Key {
      fmspc = fmspc.toLowerCase(Locale.ROOT);
      if (!fmspc.matches("[0-9a-f]{12}")) {
        throw new IllegalArgumentException("FMSPC must be 12 hex digits");
      }
      if (!pckCa.equals("platform") && !pckCa.equals("processor")) {
        throw new IllegalArgumentException("PCK CA must be platform or processor");
      }
    }

    /** From the (not yet verified) PCK chain in a quote; verification checks it all later. */
    public static Key of(TdxQuote quote) {
      var chain = Certs.parsePemChain(quote.pckChainPem(), "PCK chain");
      X509Certificate leaf = chain.get(0);
      String issuer = Certs.commonName(leaf.getIssuerX500Principal());
      String ca = issuer.contains("Processor") ? "processor" : "platform";
      if (!issuer.contains("Processor") && !issuer.contains("Platform")) {
        throw new AttestationException(Reason.UNTRUSTED_CHAIN, "PCK issuer is not a PCK CA");
      }
      return new Key(dev.cvmkms.kms.attestation.Bytes.hex(SgxExtension.of(leaf).fmspc()), ca);
    }
  }

  Collateral fetch(Key key);

  /** A source that always answers with the same bundle (CLI {@code --collateral}, tests). */
  static CollateralSource fixed(Collateral c) {
    return key -> c;
  }
}
