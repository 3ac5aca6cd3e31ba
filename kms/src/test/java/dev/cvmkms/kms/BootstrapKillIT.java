package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault-matrix rows 17 and 18 with real processes: {@code kill -9} at seeded random instants of the
 * first bootstrap (every restart comes up with a complete key set, unattended), {@code kill -9} at
 * random instants of restarts on a complete set (identical keys every time), and a full disk during
 * bootstrap (clear error, nothing published, a restart after freeing space completes). The
 * in-process crash at every write step is {@code BootstrapCrashTest}; the 50-cycle run is {@code
 * kms/bench/kill9-restarts.sh}. Where a kill lands depends on the machine; what is asserted holds
 * for any instant.
 */
class BootstrapKillIT {
  static final long SEED = 20261201L;
  static final Duration READY = Duration.ofMinutes(2);

  @TempDir Path dir;

  private KmsProcess dev(Path state, int port) throws Exception {
    return KmsProcess.start(
        dir.resolve("logs"), port, "dev", "--state-dir", state.toString(), "--port", "" + port);
  }

  /** Root CA certificate and K256 key: what must never change once published. */
  static String fingerprint(Path state) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (String f : List.of("root-ca.key", "root-ca.crt", "root-k256.key", "tmp-ca.key")) {
      sha.update(Files.readAllBytes(state.resolve(f)));
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  @Test
  void killNineDuringTheFirstBootstrap_everyRestartComesUpComplete_thenKeysNeverChange()
      throws Exception {
    int port = KmsProcess.freePort();
    // How long a clean first start takes here: the range the kill instants are drawn from.
    long calibrated;
    Path probe = dir.resolve("calibration");
    long t0 = System.nanoTime();
    try (KmsProcess kms = dev(probe, port)) {
      kms.awaitReady(probe.resolve("root-ca.crt"), READY);
      calibrated = (System.nanoTime() - t0) / 1_000_000;
    }

    Random random = new Random(SEED);
    for (int i = 0; i < 2; i++) {
      Path state = dir.resolve("state-" + i);
      long at = (long) (random.nextDouble() * calibrated);
      KmsProcess victim = dev(state, port);
      Thread.sleep(at); // the kill instant itself (seeded), not a wait for an event
      victim.process().destroyForcibly(); // SIGKILL
      assertThat(victim.process().waitFor(30, TimeUnit.SECONDS)).isTrue();

      String first;
      try (KmsProcess kms = dev(state, port)) {
        kms.awaitReady(state.resolve("root-ca.crt"), READY);
        first = fingerprint(state);
        assertThat(kms.log()).doesNotContain("incomplete key set");
      }
      try (KmsProcess kms = dev(state, port)) {
        kms.awaitReady(state.resolve("root-ca.crt"), READY);
        assertThat(fingerprint(state)).as("kill at %d ms of %d", at, calibrated).isEqualTo(first);
        assertThat(kms.log()).contains("loaded keys from");
      }
      assertOnlyDstackFiles(state);
    }
  }

  @Test
  void killNineDuringRestartsOnACompleteSet_keysAreIdenticalEveryTime() throws Exception {
    int port = KmsProcess.freePort();
    Path state = dir.resolve("state");
    long t0 = System.nanoTime();
    try (KmsProcess kms = dev(state, port)) {
      kms.awaitReady(state.resolve("root-ca.crt"), READY);
    }
    long calibrated = (System.nanoTime() - t0) / 1_000_000;
    String keys = fingerprint(state);
    Random random = new Random(SEED + 1);
    for (int i = 0; i < 3; i++) {
      KmsProcess victim = dev(state, port);
      Thread.sleep((long) (random.nextDouble() * calibrated)); // the kill instant
      victim.process().destroyForcibly();
      assertThat(victim.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(fingerprint(state)).isEqualTo(keys);
    }
    try (KmsProcess kms = dev(state, port)) {
      kms.awaitReady(state.resolve("root-ca.crt"), READY);
      assertThat(fingerprint(state)).isEqualTo(keys);
    }
  }

  @Test
  void diskFullDuringBootstrap_clearError_nothingPublished_restartAfterFreeingSpaceCompletes()
      throws Exception {
    Path mnt = dir.resolve("tmpfs");
    Files.createDirectories(mnt);
    Process mount =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.toString())
            .redirectErrorStream(true)
            .start();
    boolean mounted = mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
    assumeThat(mounted).as("needs root to mount a small tmpfs").isTrue();
    try {
      Path state = mnt.resolve("state");
      Files.createDirectories(state);
      Path filler = mnt.resolve("filler");
      fill(filler);
      int port = KmsProcess.freePort();
      try (KmsProcess kms = dev(state, port)) {
        assertThat(kms.process().waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(kms.process().exitValue()).isNotZero();
        assertThat(kms.log()).contains("the disk is full").contains("Nothing was published");
      }
      try (Stream<Path> files = Files.list(state)) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .as("nothing published")
            .noneMatch(n -> n.endsWith(".key") || n.endsWith(".crt") || n.startsWith(".keyset"));
      }
      Files.delete(filler);
      try (KmsProcess kms = dev(state, port)) {
        kms.awaitReady(state.resolve("root-ca.crt"), READY);
      }
      assertThat(fingerprint(state)).hasSize(64);
    } finally {
      new ProcessBuilder("umount", mnt.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Writes until the file system refuses: ENOSPC. */
  private static void fill(Path filler) throws Exception {
    byte[] block = new byte[4096];
    try (var out = Files.newOutputStream(filler)) {
      for (int i = 0; i < 1_000_000; i++) {
        out.write(block);
        out.flush();
      }
    } catch (java.io.IOException full) {
      return;
    }
    throw new AssertionError("the tmpfs never filled up");
  }

  private static void assertOnlyDstackFiles(Path state) throws Exception {
    try (Stream<Path> files = Files.list(state)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.startsWith(".keyset"));
    }
  }
}
