package dev.cvmkms.kms.keys;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a start with existing keys does (dstack's {@code update_certs}, spec §8.5): a new RPC
 * certificate every time, with a fresh attestation when attesting, and new CA certificates (same
 * keys) only when the current ones expire within {@link #CA_RENEWAL_WINDOW}.
 */
public final class CertRenewal {
  /** CA certificates are re-issued when their notAfter is at most this far away. */
  public static final Duration CA_RENEWAL_WINDOW = Duration.ofDays(365);

  private static final Logger LOG = LoggerFactory.getLogger(CertRenewal.class);

  private final Clock clock;

  public CertRenewal(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Loads the stored keys, renews certificates as dstack does, writes the renewed certificate
   * files, and returns the key set to serve with.
   *
   * @param autoBootstrapDomain {@code core.onboard.auto_bootstrap_domain}; blank means unset, and
   *     the stored {@code rpc-domain} is used
   */
  public RootKeys renewOnStart(
      KeyStore store, Optional<String> autoBootstrapDomain, Optional<KeyAttester> rpcAttester)
      throws IOException {
    RootKeys stored = store.load();
    String domain = autoBootstrapDomain.filter(d -> !d.isBlank()).orElse(stored.rpcDomain());
    Instant now = clock.instant();
    EnumSet<KeyStore.CertFile> rewrite = EnumSet.of(KeyStore.CertFile.RPC);

    CertifiedKey tmpCa = stored.tmpCa();
    if (needsRenewal(tmpCa.cert(), now)) {
      tmpCa = tmpCa.withCertificate(CertificateIssuer.tempCa(tmpCa.key(), now));
      rewrite.add(KeyStore.CertFile.TMP_CA);
    }
    CertifiedKey rootCa = stored.rootCa();
    if (needsRenewal(rootCa.cert(), now)) {
      rootCa = rootCa.withCertificate(CertificateIssuer.rootCa(rootCa.key(), now));
      rewrite.add(KeyStore.CertFile.ROOT_CA);
    }
    CertifiedKey rpc =
        stored
            .rpc()
            .withCertificate(
                KeyBootstrap.issueRpcCert(stored.rpc().key(), domain, rootCa, rpcAttester, now));

    RootKeys renewed = stored.with(tmpCa, rootCa, rpc, domain);
    store.saveCertificates(renewed, rewrite);
    LOG.info("certificates renewed on start: {} (domain {})", rewrite, domain);
    return renewed;
  }

  /** Whether a CA certificate's notAfter is within {@link #CA_RENEWAL_WINDOW} of {@code now}. */
  public static boolean needsRenewal(X509Certificate caCert, Instant now) {
    Instant notAfter = caCert.getNotAfter().toInstant();
    return !notAfter.isAfter(now.plus(CA_RENEWAL_WINDOW));
  }
}
