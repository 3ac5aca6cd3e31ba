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
 * an existing key file can never be replaced, even by a concurrent writer. {@code cert_dir} is mode
 * 0700, {@code bootstrap-info.json} 0600.
 *
 * <p><b>A key set is written as a whole.</b> Each file being atomic is not enough: a crash between
 * two files would leave a partial set that no start can use. So {@link #save} writes the whole set
 * into {@code .keyset-staging/} (each file fsynced), commits it by renaming that directory to
 * {@code .keyset-commit/} (one atomic rename, then fsync of cert_dir), and only then publishes the
 * files under dstack's names with create-only hard links, and removes the commit directory. The
 * rename is the commit point. At any crash the next start finds one of: a staging directory, never
 * committed and never returned to anyone: <em>discarded</em> (logged), the caller bootstraps or
 * onboards again; or a commit directory: its publication is <em>completed</em> (logged) with the
 * same keys. A file already published is never replaced — a published name holding other bytes than
 * the committed set stops the start naming the file — and a damaged published set is refused as
 * before by {@link #state} and {@link #load}.
 */
public final class FileKeyStore implements KeyStore {
  private static final Logger LOG = LoggerFactory.getLogger(FileKeyStore.class);
  private static final Set<PosixFilePermission> SECRET_MODE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PUBLIC_MODE =
      PosixFilePermissions.fromString("rw-r--r--");
  private static final Set<PosixFilePermission> DIR_MODE =
      PosixFilePermissions.fromString("rwx------");

  /** The set being written; never committed while this name exists. */
  static final String STAGING = ".keyset-staging";

  /** The committed set whose files are (being) published into cert_dir. */
  static final String COMMIT = ".keyset-commit";

  /**
   * Called before each file-system step of a key-set save with the step's name; tests throw from it
   * to simulate a crash at that instant (a thrown {@link Error} skips all clean-up, as a crash
   * would).
   */
  @FunctionalInterface
  public interface WriteSteps {
    WriteSteps NONE = step -> {};

    void before(String step);
  }

  private final Path dir;
  private final String where;
  private final WriteSteps steps;

  public FileKeyStore(Path certDir) {
    this(certDir, WriteSteps.NONE);
  }

  public FileKeyStore(Path certDir, WriteSteps steps) {
    this.dir = Objects.requireNonNull(certDir, "certDir").toAbsolutePath();
    this.where = "cert_dir " + dir;
    this.steps = Objects.requireNonNull(steps, "steps");
  }

  public Path directory() {
    return dir;
  }

  /** Finishes or discards a save a crash interrupted (see the class comment), then judges. */
  @Override
  public synchronized State state() throws KeyStoreException {
    recover();
    return CertDirFiles.detect(present(), where);
  }

  /**
   * What start-up does with an interrupted save: a staging directory is discarded, a commit
   * directory is published. Idempotent; a no-op on a clean cert_dir.
   */
  private void recover() throws KeyStoreException {
    Path staging = dir.resolve(STAGING);
    Path commit = dir.resolve(COMMIT);
    try {
      if (Files.isDirectory(commit, LinkOption.NOFOLLOW_LINKS)) {
        LOG.warn(
            "{}: completing the publication of a key set that was committed before a crash or"
                + " kill (same keys; nothing is regenerated)",
            where);
        publish(commit);
      }
      if (Files.exists(staging, LinkOption.NOFOLLOW_LINKS)) {
        LOG.warn(
            "{}: discarding a key set that was never published (its write was interrupted before"
                + " the commit); the KMS bootstraps or onboards as on a first start",
            where);
        deleteTree(staging);
        syncDirectory();
      }
      removeStaleTemporaryFiles();
    } catch (IOException e) {
      throw new KeyStoreException(
          "cannot recover the interrupted key-set write in " + where + ": " + e, e);
    }
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

  /**
   * Stages, commits and publishes the whole set (class comment). On an I/O error (a full disk, say)
   * the staging directory is removed and nothing is published; the message says so.
   */
  @Override
  public synchronized void save(RootKeys keys, Optional<BootstrapInfo> bootstrapInfo)
      throws KeyStoreException {
    recover();
    List<String> existing = CertDirFiles.KEY_FILES.stream().filter(this::exists).toList();
    if (!existing.isEmpty()) {
      throw CertDirFiles.refuseOverwrite(existing, where);
    }
    if (bootstrapInfo.isPresent() && exists(CertDirFiles.BOOTSTRAP_INFO)) {
      throw CertDirFiles.refuseOverwrite(List.of(CertDirFiles.BOOTSTRAP_INFO), where);
    }
    createPrivateDirectory();
    Map<String, byte[]> files = new LinkedHashMap<>();
    bootstrapInfo.ifPresent(
        info ->
            files.put(
                CertDirFiles.BOOTSTRAP_INFO,
                info.toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    files.putAll(CertDirFiles.encode(keys));
    Path staging = dir.resolve(STAGING);
    Path commit = dir.resolve(COMMIT);
    String current = "the staging directory";
    try {
      steps.before("mkdir staging");
      Files.createDirectory(staging, dirMode());
      for (Map.Entry<String, byte[]> file : files.entrySet()) {
        current = file.getKey();
        writeFile(staging, file.getKey(), file.getValue());
      }
      current = "the staging directory";
      steps.before("fsync staging");
      syncDirectory(staging);
      steps.before("commit");
      Files.move(staging, commit, StandardCopyOption.ATOMIC_MOVE);
      steps.before("fsync cert_dir after commit");
      syncDirectory();
    } catch (IOException e) {
      discardQuietly(staging);
      throw new KeyStoreException(
          "cannot write "
              + current
              + " of a new key set in "
              + where
              + ": "
              + describe(e)
              + ". Nothing was published; fix this and start again.",
          e);
    }
    try {
      publish(commit);
    } catch (IOException e) {
      throw new KeyStoreException(
          "the new key set in "
              + where
              + " is committed but not yet published ("
              + describe(e)
              + "); the next start completes it with the same keys",
          e);
    }
  }

  /**
   * Publishes every file of the committed set under its name, create-only; a name that already
   * holds the same bytes counts as published (an earlier, interrupted run). Then removes the commit
   * directory.
   */
  private void publish(Path commit) throws IOException, KeyStoreException {
    List<String> names;
    try (var list = Files.list(commit)) {
      names =
          list.map(p -> p.getFileName().toString())
              .filter(n -> !n.startsWith("."))
              .sorted(CertDirFiles::publishOrder)
              .toList();
    }
    for (String name : names) {
      Path source = commit.resolve(name);
      Path target = dir.resolve(name);
      steps.before("publish " + name);
      try {
        createOnly(source, target);
      } catch (FileAlreadyExistsException e) {
        if (!java.util.Arrays.equals(Files.readAllBytes(target), Files.readAllBytes(source))) {
          throw new KeyStoreException(
              where
                  + " holds "
                  + name
                  + " that differs from the committed key set in "
                  + COMMIT
                  + "/ (a file was changed by hand after a crash?). "
                  + CertDirFiles.RECOVERY);
        }
      }
    }
    steps.before("fsync cert_dir after publish");
    syncDirectory();
    steps.before("remove commit");
    deleteTree(commit);
    syncDirectory();
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

  /** One file of a staged set: written, fsynced, with its final mode; no rename needed. */
  private void writeFile(Path staging, String name, byte[] content) throws IOException {
    Path file = staging.resolve(name);
    steps.before("create " + name);
    try (FileChannel channel =
        FileChannel.open(
            file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), secretMode())) {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      int half = content.length / 2;
      buffer.limit(half);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      steps.before("write " + name + " (half written)");
      buffer.limit(content.length);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      steps.before("fsync " + name);
      channel.force(true);
    }
    if (isPosix()) {
      Files.setPosixFilePermissions(file, modeOf(name));
    }
  }

  /**
   * Atomic replace of a certificate file (renewal): temporary sibling, fsync, rename, fsync of the
   * directory. Key files are never written this way.
   */
  private void write(String name, byte[] content) throws KeyStoreException {
    if (CertDirFiles.isSecret(name)) {
      throw new IllegalArgumentException(name + " is a key file; it is only written with its set");
    }
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
      if (isPosix()) {
        Files.setPosixFilePermissions(tmp, modeOf(name));
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
      syncDirectory();
    } catch (IOException e) {
      throw new KeyStoreException("cannot write " + name + " in " + where + ": " + describe(e), e);
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

  private static Set<PosixFilePermission> modeOf(String name) {
    return CertDirFiles.isSecret(name) || name.equals(CertDirFiles.BOOTSTRAP_INFO)
        ? SECRET_MODE
        : PUBLIC_MODE;
  }

  /** A clear word for the errors operators meet: a full disk, a read-only mount. */
  private static String describe(IOException e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("No space left on device")) {
      return "the disk is full (No space left on device)";
    }
    if (m.contains("Read-only file system")) {
      return "the file system is read-only";
    }
    return e.toString();
  }

  /** cert_dir itself: created 0700; an existing one with wider access is narrowed to 0700. */
  private void createPrivateDirectory() throws KeyStoreException {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, dirMode());
      }
      narrowDirectoryMode();
    } catch (IOException e) {
      throw new KeyStoreException("cannot create " + where + ": " + describe(e), e);
    }
  }

  private void narrowDirectoryMode() {
    if (!isPosix() || !Files.isDirectory(dir)) {
      return;
    }
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
      if (!DIR_MODE.containsAll(mode)) {
        Files.setPosixFilePermissions(dir, DIR_MODE);
        LOG.info(
            "{}: narrowed its mode from {} to rwx------",
            where,
            PosixFilePermissions.toString(mode));
      }
    } catch (IOException e) {
      LOG.warn(
          "{} is accessible by others and its mode cannot be changed: {}", where, e.toString());
    }
  }

  private void removeStaleTemporaryFiles() throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    narrowDirectoryMode();
    try (var list = Files.list(dir)) {
      for (Path p : list.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith(".") && n.endsWith(".tmp") && Files.isRegularFile(p)) {
          Files.deleteIfExists(p); // a certificate renewal interrupted before its rename
        }
      }
    }
  }

  private void discardQuietly(Path staging) {
    try {
      deleteTree(staging);
    } catch (IOException e) {
      LOG.warn("could not remove {} (the next start discards it): {}", staging, e.toString());
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      try (var list = Files.list(root)) {
        for (Path p : list.toList()) {
          deleteTree(p);
        }
      }
    }
    Files.deleteIfExists(root);
  }

  private FileAttribute<?>[] dirMode() {
    return isPosix()
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DIR_MODE)}
        : new FileAttribute<?>[0];
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
    syncDirectory(dir);
  }

  private static void syncDirectory(Path d) throws IOException {
    try (FileChannel channel = FileChannel.open(d, StandardOpenOption.READ)) {
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
