package dev.cvmkms.kms;

import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.keys.CertRenewal;
import dev.cvmkms.kms.keys.KeyAttester;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.KeyStore;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.service.KmsAttestation;
import java.io.IOException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up decision about {@code cert_dir}: a complete set is loaded and its certificates renewed
 * (spec §8.5); an empty one is bootstrapped when allowed; anything partial or corrupt stops the
 * start with the store's message. Root keys that exist are never generated again.
 */
final class KeyState {
  private static final Logger LOG = LoggerFactory.getLogger(KeyState.class);

  private KeyState() {}

  /**
   * Attestation of this KMS: for the RPC certificate's extension (stripped form) and for the
   * bootstrap info (full form). Both empty when the KMS does not attest.
   */
  record Attesters(Optional<KeyAttester> rpcCert, Optional<KeyAttester> bootstrapKeys) {
    static Attesters of(KmsConfig config, Optional<KmsAttestation> attestation) {
      if (config.attestRpcCert() && attestation.isEmpty()) {
        throw new IllegalStateException("core.attest_rpc_cert is on but no attestation provider");
      }
      return new Attesters(
          attestation.filter(a -> config.attestRpcCert()).map(a -> a::attestForCertificate),
          attestation.map(a -> a::attest));
    }
  }

  /**
   * Whether start-up runs the onboarding phase first: {@code core.onboard.enabled}, no domain to
   * bootstrap with (neither given nor {@code auto_bootstrap_domain}) and an empty store. A partial
   * store is not onboarded: {@link #prepare} refuses it with its message.
   */
  static boolean needsOnboarding(
      KeyStore store, dev.cvmkms.kms.config.KmsConfig config, Optional<String> bootstrapDomain)
      throws IOException {
    return config.onboard().enabled()
        && bootstrapDomain.isEmpty()
        && config.onboard().autoBootstrapDomain().isBlank()
        && store.state() == KeyStore.State.EMPTY;
  }

  /**
   * @param bootstrapDomain the domain to bootstrap with when the store is empty; empty means the
   *     store must already hold keys
   * @param attesters the attestation providers for the RPC certificate and the bootstrap info
   */
  static RootKeys prepare(
      KeyStore store,
      Optional<String> bootstrapDomain,
      Optional<String> autoBootstrapDomain,
      Attesters attesters,
      Clock clock)
      throws IOException {
    if (store.state() == KeyStore.State.COMPLETE) {
      RootKeys keys =
          new CertRenewal(clock).renewOnStart(store, autoBootstrapDomain, attesters.rpcCert());
      LOG.info(
          "loaded keys from {} (k256 {})",
          store,
          HexFormat.of().formatHex(keys.k256CompressedPublicKey()));
      return keys;
    }
    String domain =
        bootstrapDomain.orElseThrow(
            () ->
                new IOException(
                    store
                        + " holds no keys. Set core.onboard.auto_bootstrap_domain to bootstrap new"
                        + " keys, or restore the cert_dir files from a backup."));
    long t0 = System.nanoTime();
    KeyBootstrap bootstrap = new KeyBootstrap(clock);
    RootKeys keys;
    if (attesters.bootstrapKeys().isPresent()) {
      // Through the attestation provider: bootstrap-info.json records an attestation over the keys.
      bootstrap.bootstrap(domain, attesters.rpcCert(), attesters.bootstrapKeys().get(), store);
      keys = store.load();
    } else {
      keys = bootstrap.generate(domain, attesters.rpcCert());
      store.save(keys);
    }
    LOG.info(
        "bootstrapped new keys in {} ms for domain {} (k256 {})",
        (System.nanoTime() - t0) / 1_000_000,
        domain,
        HexFormat.of().formatHex(keys.k256CompressedPublicKey()));
    return keys;
  }
}
