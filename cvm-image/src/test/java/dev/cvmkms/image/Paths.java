package dev.cvmkms.image;

import java.nio.file.Path;

/** Where things are, from the failsafe system properties (the module runs from cvm-image/). */
final class Paths {
  private Paths() {}

  /** The cvm-image/ folder: Dockerfiles, scripts, compose. */
  static Path home() {
    return Path.of(System.getProperty("cvmimage.home", ".")).toAbsolutePath().normalize();
  }

  static Path repo() {
    return home().getParent();
  }

  static Path target() {
    return home().resolve("target");
  }
}
