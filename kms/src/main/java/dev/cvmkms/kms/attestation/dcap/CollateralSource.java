package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where verification gets its collateral: the seam between the pure verifier and the network.
 * {@link #fetch} never blocks its caller; a remote implementation answers on its own threads.
 * Failures are {@link AttestationException}s with {@link Reason#COLLATERAL_UNAVAILABLE}.
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

  /** The collateral for {@code key}, possibly after an upstream call. */
  CompletionStage<Collateral> fetch(Key key);

  /**
   * Collateral available now without any I/O (a cache hit), if any. When this is empty the verifier
   * checks the quote's PCK chain against its trust anchor before calling {@link #fetch}, so an
   * unverifiable quote never costs an upstream call or a cache entry.
   */
  default Optional<Collateral> cached(Key key) {
    return Optional.empty();
  }

  /** A source that always answers with the same bundle (CLI {@code --collateral}, tests). */
  static CollateralSource fixed(Collateral c) {
    return new CollateralSource() {
      @Override
      public CompletionStage<Collateral> fetch(Key key) {
        return CompletableFuture.completedFuture(c);
      }

      @Override
      public Optional<Collateral> cached(Key key) {
        return Optional.of(c);
      }
    };
  }
}
