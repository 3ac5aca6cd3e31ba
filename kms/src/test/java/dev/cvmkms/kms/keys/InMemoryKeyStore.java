package dev.cvmkms.kms.keys;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link KeyStore} fake holding the cert_dir's files as bytes in memory. It judges state with the
 * same rules as {@link FileKeyStore} and records the order of writes.
 */
public final class InMemoryKeyStore implements KeyStore {
  private static final String WHERE = "in-memory key store";

  private final Map<String, byte[]> files = new LinkedHashMap<>();
  private final List<String> writes = new ArrayList<>();

  @Override
  public synchronized State state() throws KeyStoreException {
    return CertDirFiles.detect(files.keySet(), WHERE);
  }

  @Override
  public synchronized RootKeys load() throws KeyStoreException {
    if (state() == State.EMPTY) {
      throw new KeyStoreException(WHERE + " holds no keys");
    }
    return CertDirFiles.decode(files, WHERE);
  }

  @Override
  public synchronized void save(RootKeys keys, Optional<BootstrapInfo> bootstrapInfo)
      throws KeyStoreException {
    List<String> existing = CertDirFiles.KEY_FILES.stream().filter(files::containsKey).toList();
    if (!existing.isEmpty()) {
      throw CertDirFiles.refuseOverwrite(existing, WHERE);
    }
    bootstrapInfo.ifPresent(
        info ->
            put(
                CertDirFiles.BOOTSTRAP_INFO,
                info.toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    CertDirFiles.encode(keys).forEach(this::put);
  }

  @Override
  public synchronized void saveCertificates(RootKeys keys, Set<CertFile> which)
      throws KeyStoreException {
    CertDirFiles.requireSameKeys(load(), keys, WHERE);
    CertDirFiles.encodeCertificates(keys, which).forEach(this::put);
  }

  @Override
  public synchronized boolean hasAnyKey() {
    return CertDirFiles.KEY_FILES.stream().anyMatch(files::containsKey);
  }

  @Override
  public synchronized boolean hasBootstrapInfo() {
    return files.containsKey(CertDirFiles.BOOTSTRAP_INFO);
  }

  @Override
  public synchronized Optional<BootstrapInfo> bootstrapInfo() {
    byte[] json = files.get(CertDirFiles.BOOTSTRAP_INFO);
    return json == null ? Optional.empty() : BootstrapInfo.fromJson(json);
  }

  /** File names in the order they were written. */
  public synchronized List<String> writeLog() {
    return List.copyOf(writes);
  }

  /** A copy of a stored file's bytes, for assertions. */
  public synchronized Optional<byte[]> file(String name) {
    return Optional.ofNullable(files.get(name)).map(byte[]::clone);
  }

  private void put(String name, byte[] content) {
    files.put(name, content.clone());
    writes.add(name);
  }
}
