package dev.cvmkms.kms.rpc;

import dev.cvmkms.kms.attestation.VerifiedAttestation;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Who is calling, as seen by the transport: the TLS client certificate chain (leaf first; empty
 * when the connection is plain HTTP or the client sent no certificate) and the remote address. The
 * chain has only passed the TLS layer's check against the listener's trust anchor; the RA-TLS
 * attestation inside it is still for the service to verify.
 *
 * @param certificateChain the client's X.509 chain, leaf first, possibly empty, unmodifiable
 * @param remoteAddress the peer's address as {@code host:port}, or {@code "unknown"}
 * @param attestation the leaf's RA-TLS attestation once the edge verified it (bound to the leaf's
 *     key); empty before verification and when the certificate carries none
 */
public record Caller(
    List<X509Certificate> certificateChain,
    String remoteAddress,
    Optional<VerifiedAttestation> attestation) {
  public Caller {
    certificateChain = List.copyOf(certificateChain);
    Objects.requireNonNull(remoteAddress, "remoteAddress");
    Objects.requireNonNull(attestation, "attestation");
    if (attestation.isPresent() && certificateChain.isEmpty()) {
      throw new IllegalArgumentException("an attestation needs the certificate it came from");
    }
  }

  /** A caller as the transport saw it: nothing verified yet. */
  public Caller(List<X509Certificate> certificateChain, String remoteAddress) {
    this(certificateChain, remoteAddress, Optional.empty());
  }

  /** This caller with the attestation the edge verified against its leaf certificate. */
  public Caller withAttestation(VerifiedAttestation verified) {
    return new Caller(certificateChain, remoteAddress, Optional.of(verified));
  }

  /** The leaf certificate, if the client presented one. */
  public Optional<X509Certificate> leaf() {
    return certificateChain.isEmpty() ? Optional.empty() : Optional.of(certificateChain.get(0));
  }

  /** A caller with no client certificate (tests, plain-HTTP listeners). */
  public static Caller anonymous(String remoteAddress) {
    return new Caller(List.of(), remoteAddress);
  }

  /** Builds the caller of {@code request}; never throws when TLS client auth did not happen. */
  public static Caller of(HttpServerRequest request) {
    SocketAddress remote = request.remoteAddress();
    String address = remote == null ? "unknown" : remote.toString();
    return new Caller(peerChain(request), address);
  }

  private static List<X509Certificate> peerChain(HttpServerRequest request) {
    HttpConnection connection = request.connection();
    if (connection == null || !connection.isSsl()) {
      return List.of();
    }
    List<Certificate> certificates;
    try {
      certificates = connection.peerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return List.of(); // client auth is optional: no certificate was presented
    }
    if (certificates == null) {
      return List.of();
    }
    List<X509Certificate> chain = new ArrayList<>(certificates.size());
    for (Certificate certificate : certificates) {
      if (certificate instanceof X509Certificate x509) {
        chain.add(x509);
      }
    }
    return chain;
  }

  /** True when the client presented a certificate. */
  public boolean hasCertificate() {
    return !certificateChain.isEmpty();
  }

  @Override
  public String toString() {
    String leaf =
        certificateChain.isEmpty()
            ? "none"
            : certificateChain.get(0).getSubjectX500Principal().getName();
    return "Caller["
        + remoteAddress
        + ", certificate="
        + leaf
        + (attestation.isPresent() ? ", attested" : "")
        + "]";
  }
}
