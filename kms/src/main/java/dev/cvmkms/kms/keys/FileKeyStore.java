package dev.cvmkms.kms.keys;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dstack's {@code cert_dir} on disk (spec §8.1). Every write is atomic (temporary sibling, fsync,
 * rename, fsync of the directory); key files are mode 0600 and are created with a hard link so that
 * an existing key file can never be replaced, even by a concurrent writer.
 */
public final class FileKeyStore implements KeyStore {
  private static final Logger LOG = LoggerFactory.getLogger(FileKeyStore.class);
  private static final Set<PosixFilePermission> SECRET_MODE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PUBLIC_MODE =
      PosixFilePermissions.fromString("rw-r--r--");

  private final Path dir;
  private final String where;

  public FileKeyStore(Path certDir) {
    this.dir = Objects.requireNonNull(certDir, "certDir").toAbsolutePath();
    this.where = "cert_dir " + dir;
  }

  public Path directory() {
    return dir;
  }

  @Override
  public State state() throws KeyStoreException {
    return CertDirFiles.detect(present(), where);
  }

  @Override
  public RootKeys load() throws KeyStoreException {
    if (state() == State.EMPTY) {
      throw new KeyStoreException(where + " holds no keys: bootstrap or onboard this KMS first.");
    }
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String name : CertDirFiles.REQUIRED) {
      read(name).ifPresent(bytes -> files.put(name, bytes));
    }
    read(CertDirFiles.RPC_DOMAIN).ifPresent(b -> files.put(CertDirFiles.RPC_DOMAIN, b));
    warnIfKeysReadable();
    return CertDirFiles.decode(files, where);
  }

  @Override
  public void save(RootKeys keys, Optional<BootstrapInfo> bootstrapInfo) throws KeyStoreException {
    List<String> existing = CertDirFiles.KEY_FILES.stream().filter(this::exists).toList();
    if (!existing.isEmpty()) {
      throw CertDirFiles.refuseOverwrite(existing, where);
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new KeyStoreException("cannot create " + where + ": " + e.getMessage(), e);
    }
    if (bootstrapInfo.isPresent()) {
      write(
          CertDirFiles.BOOTSTRAP_INFO,
          bootstrapInfo.get().toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    for (Map.Entry<String, byte[]> file : CertDirFiles.encode(keys).entrySet()) {
      write(file.getKey(), file.getValue());
    }
  }

  @Override
  public void saveCertificates(RootKeys keys, Set<CertFile> which) throws KeyStoreException {
    CertDirFiles.requireSameKeys(load(), keys, where);
    for (Map.Entry<String, byte[]> file : CertDirFiles.encodeCertificates(keys, which).entrySet()) {
      write(file.getKey(), file.getValue());
    }
  }

  @Override
  public boolean hasAnyKey() {
    return CertDirFiles.KEY_FILES.stream().anyMatch(this::exists);
  }

  @Override
  public boolean hasBootstrapInfo() {
    return exists(CertDirFiles.BOOTSTRAP_INFO);
  }

  @Override
  public Optional<BootstrapInfo> bootstrapInfo() {
    try {
      return BootstrapInfo.fromJson(Files.readAllBytes(dir.resolve(CertDirFiles.BOOTSTRAP_INFO)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private Set<String> present() {
    Set<String> names = new HashSet<>();
    for (String name : CertDirFiles.REQUIRED) {
      if (exists(name)) {
        names.add(name);
      }
    }
    return names;
  }

  private boolean exists(String name) {
    return Files.exists(dir.resolve(name), LinkOption.NOFOLLOW_LINKS);
  }

  private Optional<byte[]> read(String name) throws KeyStoreException {
    try {
      return Optional.of(Files.readAllBytes(dir.resolve(name)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new KeyStoreException(
          "cannot read " + name + " in " + where + ": " + e + ". " + CertDirFiles.RECOVERY, e);
    }
  }

  /** Atomic replace for public files; atomic create-only for key files. */
  private void write(String name, byte[] content) throws KeyStoreException {
    boolean secret = CertDirFiles.isSecret(name);
    Path target = dir.resolve(name);
    Path tmp = null;
    try {
      tmp = Files.createTempFile(dir, "." + name + ".", ".tmp", secretMode());
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      if (!secret && isPosix()) {
        Files.setPosixFilePermissions(tmp, PUBLIC_MODE);
      }
      if (secret) {
        createOnly(tmp, target);
      } else {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      }
      syncDirectory();
    } catch (FileAlreadyExistsException e) {
      throw CertDirFiles.refuseOverwrite(List.of(name), where);
    } catch (IOException e) {
      throw new KeyStoreException("cannot write " + name + " in " + where + ": " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          LOG.warn("could not remove temporary file {}", tmp, e);
        }
      }
    }
  }

  /** Publishes {@code tmp} as {@code target} only if {@code target} does not exist. */
  private static void createOnly(Path tmp, Path target) throws IOException {
    try {
      Files.createLink(target, tmp); // fails atomically if target exists
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (UnsupportedOperationException | IOException e) {
      // Filesystems without hard links (some FUSE/vfat): check, then rename.
      fallbackCreateOnly(tmp, target);
    }
  }

  private static void fallbackCreateOnly(Path tmp, Path target) throws IOException {
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(target.toString());
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("filesystem of " + target + " cannot rename atomically", e);
    }
  }

  private void syncDirectory() throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private FileAttribute<?>[] secretMode() {
    return isPosix()
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(SECRET_MODE)}
        : new FileAttribute<?>[0];
  }

  private boolean isPosix() {
    return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private void warnIfKeysReadable() {
    if (!isPosix()) {
      return;
    }
    for (String name : CertDirFiles.KEY_FILES) {
      try {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir.resolve(name));
        if (!SECRET_MODE.containsAll(mode)) {
          LOG.warn(
              "{} in {} is readable by others (mode {}); it should be 0600",
              name,
              dir,
              PosixFilePermissions.toString(mode));
        }
      } catch (IOException e) {
        // Reading it failed or will fail with a clearer message.
      }
    }
  }

  @Override
  public String toString() {
    return "FileKeyStore[" + dir + "]";
  }
}
