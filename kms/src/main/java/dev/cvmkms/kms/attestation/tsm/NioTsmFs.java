package dev.cvmkms.kms.attestation.tsm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/** The real configfs tree, through plain {@code java.nio.file}. */
public final class NioTsmFs implements TsmFs {
  public static final Path DEFAULT_ROOT = Path.of("/sys/kernel/config/tsm/report");

  private final Path root;
  private final SecureRandom random = new SecureRandom();

  public NioTsmFs(Path root) {
    this.root = root;
  }

  @Override
  public boolean available() {
    return Files.isDirectory(root);
  }

  @Override
  public String mkdirTemp(String prefix) throws IOException {
    for (int i = 0; i < 16; i++) {
      byte[] r = new byte[8];
      random.nextBytes(r);
      String name = prefix + HexFormat.of().formatHex(r);
      try {
        Files.createDirectory(root.resolve(name));
        return name;
      } catch (FileAlreadyExistsException e) {
        // vanishingly unlikely; pick another name
      }
    }
    throw new IOException("could not create a unique entry under " + root);
  }

  private Path attr(String entry, String attribute) {
    if (entry.contains("/") || attribute.contains("/")) {
      throw new IllegalArgumentException("entry and attribute are single path segments");
    }
    return root.resolve(entry).resolve(attribute);
  }

  @Override
  public byte[] read(String entry, String attribute) throws IOException {
    // readAllBytes copes with pseudo-files that report st_size 0
    return Files.readAllBytes(attr(entry, attribute));
  }

  @Override
  public WritableByteChannel openWrite(String entry, String attribute) throws IOException {
    return FileChannel.open(attr(entry, attribute), StandardOpenOption.WRITE);
  }

  @Override
  public void remove(String entry) throws IOException {
    Files.delete(root.resolve(entry));
  }

  @Override
  public String describe() {
    return root.toString();
  }
}
