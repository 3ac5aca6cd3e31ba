package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash at any instant of writing a key set (bootstrap or onboarding install) leaves a cert_dir
 * from which the next start, unattended, either completes that same set or discards a set that was
 * never published. The crash is injected in-process before each file-system step (including with a
 * file half written); a thrown {@link Error} skips every clean-up, as a kill would.
 */
class BootstrapCrashTest {
  @TempDir Path tmp;

  /** Thrown at the chosen step: nothing after it runs. */
  static final class Crash extends Error {
    private static final long serialVersionUID = 1L;

    Crash(String step) {
      super("crash before " + step);
    }
  }

  private static List<String> stepsOfOneSave(Path dir, RootKeys keys, BootstrapInfo info)
      throws Exception {
    List<String> steps = new ArrayList<>();
    new FileKeyStore(dir, steps::add).save(keys, Optional.of(info));
    return steps;
  }

  @Test
  void crashAtEveryStep_nextStartCompletesTheSameSetOrDiscardsAnUnpublishedOne() throws Exception {
    RootKeys keys = TestKeys.unattested();
    BootstrapInfo info = KeyBootstrap.attestKeys(keys, new FakeAttester());
    List<String> steps = stepsOfOneSave(tmp.resolve("probe"), keys, info);
    int commit = steps.indexOf("commit");
    assertThat(commit).isPositive();
    assertThat(steps).contains("write root-ca.key (half written)", "publish root-k256.key");

    for (int k = 0; k < steps.size(); k++) {
      String step = steps.get(k);
      Path dir = tmp.resolve("crash-" + k);
      crashAt(dir, step, keys, info);

      FileKeyStore restarted = new FileKeyStore(dir);
      KeyStore.State state = restarted.state();
      // The rename to .keyset-commit is the commit point: a crash before it (a step with index
      // <= commit runs before the rename) discards, after it completes.
      if (k <= commit) {
        assertThat(state).as("crash before %s", step).isEqualTo(KeyStore.State.EMPTY);
        assertThat(restarted.hasAnyKey()).isFalse();
        assertThat(restarted.hasBootstrapInfo()).as("nothing published").isFalse();
        RootKeys fresh = TestKeys.unattested();
        restarted.save(fresh, Optional.of(KeyBootstrap.attestKeys(fresh, new FakeAttester())));
        assertSameKeys(new FileKeyStore(dir).load(), fresh);
      } else {
        assertThat(state).as("crash before %s", step).isEqualTo(KeyStore.State.COMPLETE);
        assertSameKeys(restarted.load(), keys);
        assertThat(restarted.bootstrapInfo()).hasValue(info);
      }
      assertOnlyDstackFiles(dir);
    }
  }

  /** The fault-matrix row: 30 seeded random crash instants, restart after each, twice. */
  @Test
  void thirtySeededRandomCrashes_includingCrashesDuringRecovery_alwaysEndComplete()
      throws Exception {
    RootKeys keys = TestKeys.unattested();
    BootstrapInfo info = KeyBootstrap.attestKeys(keys, new FakeAttester());
    List<String> steps = stepsOfOneSave(tmp.resolve("probe"), keys, info);
    List<String> publishSteps = steps.stream().filter(s -> s.startsWith("publish ")).toList();
    Random random = new Random(20261201L);
    for (int i = 0; i < 30; i++) {
      Path dir = tmp.resolve("random-" + i);
      String step = steps.get(random.nextInt(steps.size()));
      crashAt(dir, step, keys, info);
      // Half the time, crash again while the next start is completing the publication.
      if (random.nextBoolean()) {
        String again = publishSteps.get(random.nextInt(publishSteps.size()));
        try {
          new FileKeyStore(dir, s -> crashIf(s, again)).state();
        } catch (Crash expected) {
          // killed during recovery
        }
      }
      FileKeyStore store = new FileKeyStore(dir);
      if (store.state() == KeyStore.State.EMPTY) {
        store.save(keys, Optional.of(info)); // the unattended bootstrap of the next start
      }
      assertThat(store.state()).isEqualTo(KeyStore.State.COMPLETE);
      assertSameKeys(store.load(), keys);
      assertSameKeys(new FileKeyStore(dir).load(), keys);
      assertOnlyDstackFiles(dir);
    }
  }

  @Test
  void aPublishedFileThatDiffersFromTheCommittedSet_isRefusedNamingIt() throws Exception {
    RootKeys keys = TestKeys.unattested();
    BootstrapInfo info = KeyBootstrap.attestKeys(keys, new FakeAttester());
    Path dir = tmp.resolve("tampered");
    crashAt(dir, "publish rpc.key", keys, info);
    // A new file under the name (writing through the name would change the linked inode too).
    Files.delete(dir.resolve("root-ca.crt"));
    Files.writeString(dir.resolve("root-ca.crt"), TestKeys.unattested().rootCaCertPem());

    assertThatThrownBy(() -> new FileKeyStore(dir).state())
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("root-ca.crt")
        .hasMessageContaining("differs from the committed key set");
  }

  @Test
  void aDamagedPublishedSet_isStillRefusedNamingTheFile() throws Exception {
    RootKeys keys = TestKeys.unattested();
    Path dir = tmp.resolve("damaged");
    new FileKeyStore(dir).save(keys);
    Files.writeString(dir.resolve("root-ca.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n");

    assertThatThrownBy(() -> new FileKeyStore(dir).load()).hasMessageContaining("root-ca.key");
    assertThatThrownBy(() -> new FileKeyStore(dir).save(TestKeys.unattested()))
        .hasMessageContaining("never overwritten");
  }

  @Test
  void certDirIs0700_bootstrapInfo0600() throws Exception {
    RootKeys keys = TestKeys.unattested();
    Path dir = tmp.resolve("modes");
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(
        dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    new FileKeyStore(dir)
        .save(keys, Optional.of(KeyBootstrap.attestKeys(keys, new FakeAttester())));
    assertThat(mode(dir)).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("bootstrap-info.json"))).isEqualTo("rw-------");
    assertThat(mode(dir.resolve("root-k256.key"))).isEqualTo("rw-------");
  }

  private static String mode(Path p) throws Exception {
    return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static void crashAt(Path dir, String step, RootKeys keys, BootstrapInfo info) {
    FileKeyStore store = new FileKeyStore(dir, s -> crashIf(s, step));
    assertThatThrownBy(() -> store.save(keys, Optional.of(info))).isInstanceOf(Crash.class);
  }

  private static void crashIf(String step, String chosen) {
    if (step.equals(chosen)) {
      throw new Crash(step);
    }
  }

  private static void assertSameKeys(RootKeys loaded, RootKeys expected) {
    assertThat(loaded.k256CompressedPublicKey()).isEqualTo(expected.k256CompressedPublicKey());
    assertThat(loaded.rootCaCertPem()).isEqualTo(expected.rootCaCertPem());
    assertThat(loaded.tmpCaCertPem()).isEqualTo(expected.tmpCaCertPem());
    assertThat(loaded.rpcCertPem()).isEqualTo(expected.rpcCertPem());
  }

  /** After recovery nothing but dstack's file names is left in cert_dir. */
  private static void assertOnlyDstackFiles(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .allMatch(
              n ->
                  List.of(
                          "tmp-ca.key",
                          "root-ca.key",
                          "rpc.key",
                          "root-k256.key",
                          "tmp-ca.crt",
                          "root-ca.crt",
                          "rpc.crt",
                          "rpc-domain",
                          "bootstrap-info.json")
                      .contains(n));
    }
  }
}
