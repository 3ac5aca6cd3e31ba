package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The gate before any collateral fetch: the quote's PCK chain must be PCK certificate, PCK CA and
 * the trusted root, correctly signed and within validity. Only then is the FMSPC it carries worth
 * an upstream call and a cache entry. (Revocation needs the collateral and is checked by {@link
 * DcapVerifier}, which verifies the whole chain again.)
 */
public final class PckChainCheck {
  private PckChainCheck() {}

  /**
   * The collateral key of a quote whose PCK chain verifies against {@code anchor} at {@code now}.
   */
  public static CollateralSource.Key requireAnchored(
      TdxQuote quote, TrustAnchor anchor, java.time.Instant now) {
    List<X509Certificate> chain =
        new ArrayList<>(Certs.parsePemChain(quote.pckChainPem(), "PCK chain"));
    if (anchor.isRoot(chain.get(chain.size() - 1))) {
      chain.remove(chain.size() - 1);
    }
    if (chain.size() != 2) {
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN, "PCK chain must be PCK certificate, PCK CA, trusted root");
    }
    X509Certificate leaf = chain.get(0);
    X509Certificate ca = chain.get(1);
    Certs.requireIssuedBy(ca, anchor.root(), "PCK CA certificate");
    Certs.requireIssuedBy(leaf, ca, "PCK certificate");
    Certs.requireValidAt(leaf, now, "PCK certificate");
    Certs.requireValidAt(ca, now, "PCK CA certificate");
    return CollateralSource.Key.of(quote);
  }
}
