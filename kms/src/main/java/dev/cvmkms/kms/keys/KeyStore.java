package dev.cvmkms.kms.keys;

import java.util.Optional;
import java.util.Set;

/**
 * Where the root key material lives ({@code cert_dir}). Implementations never overwrite existing
 * keys: a fresh key set is written only into an empty store, and certificate renewal rewrites
 * certificate files only.
 *
 * <p>Methods do blocking I/O: call them at start-up or on a worker thread. Callers serialise
 * writers (dstack's bootstrap lock); readers may run concurrently.
 */
public interface KeyStore {
  /** What a start-up finds. Partial or corrupt state is an exception, not a state. */
  enum State {
    /** No key file at all: the caller bootstraps or onboards. */
    EMPTY,
    /** All seven key and certificate files are present (content is checked by {@link #load}). */
    COMPLETE
  }

  /** The certificate files a renewal may rewrite. */
  enum CertFile {
    TMP_CA,
    ROOT_CA,
    RPC
  }

  /**
   * Which files are present: none, or all of them.
   *
   * @throws KeyStoreException if some but not all files are present, naming them
   */
  State state() throws KeyStoreException;

  /**
   * Loads and checks the stored set: every key parses, the K256 key is 32 raw bytes, and each
   * certificate belongs to its key.
   *
   * @throws KeyStoreException naming each bad or missing file and how to recover
   */
  RootKeys load() throws KeyStoreException;

  /**
   * Stores a freshly made key set. With {@code bootstrapInfo}, that file is written first, then
   * keys, certificates and the RPC domain (dstack's order).
   *
   * @throws KeyStoreException if any key file already exists (nothing is written then)
   */
  void save(RootKeys keys, Optional<BootstrapInfo> bootstrapInfo) throws KeyStoreException;

  /** {@link #save(RootKeys, Optional)} without bootstrap info (auto-bootstrap, onboarding). */
  default void save(RootKeys keys) throws KeyStoreException {
    save(keys, Optional.empty());
  }

  /**
   * Rewrites the chosen certificate files from {@code keys}. The keys must be the stored ones.
   *
   * @throws KeyStoreException if the store is not complete or the keys differ from the stored keys
   */
  void saveCertificates(RootKeys keys, Set<CertFile> which) throws KeyStoreException;

  /** Whether any key file exists (then the KMS has been bootstrapped or onboarded). */
  boolean hasAnyKey() throws KeyStoreException;

  /** Whether a {@code bootstrap-info.json} exists, readable or not. */
  boolean hasBootstrapInfo();

  /** The stored bootstrap info; empty if absent or unreadable. Never throws. */
  Optional<BootstrapInfo> bootstrapInfo();
}
