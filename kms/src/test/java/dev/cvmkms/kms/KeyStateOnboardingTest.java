package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.OnboardConfig;
import dev.cvmkms.kms.keys.FileKeyStore;
import dev.cvmkms.kms.keys.KeyBootstrap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When start-up runs the onboarding phase instead of loading or bootstrapping (spec §1.2). */
class KeyStateOnboardingTest {
  @TempDir Path dir;

  private KmsConfig config(boolean enabled, String autoDomain) {
    KmsConfig c = KmsConfig.forDev(dir, "127.0.0.1", 0);
    return new KmsConfig(
        c.rpc(),
        c.certDir(),
        c.siteName(),
        c.enforceSelfAuthorization(),
        c.attestRpcCert(),
        c.sevSnpKeyRelease(),
        c.awsNitroTpmKeyRelease(),
        c.attestation(),
        c.image(),
        c.admin(),
        c.metrics(),
        c.authApi(),
        new OnboardConfig(enabled, autoDomain, "127.0.0.1", 0),
        c.ignoredKeys());
  }

  @Test
  void emptyStore_onboardingEnabled_noDomain_onboards() throws Exception {
    FileKeyStore store = new FileKeyStore(dir);
    assertThat(KeyState.needsOnboarding(store, config(true, ""), Optional.empty())).isTrue();
  }

  @Test
  void disabled_autoBootstrapDomain_orAGivenDomain_doNotOnboard() throws Exception {
    FileKeyStore store = new FileKeyStore(dir);
    assertThat(KeyState.needsOnboarding(store, config(false, ""), Optional.empty())).isFalse();
    assertThat(KeyState.needsOnboarding(store, config(true, "kms.example"), Optional.empty()))
        .isFalse();
    assertThat(KeyState.needsOnboarding(store, config(true, ""), Optional.of("localhost")))
        .isFalse();
  }

  @Test
  void completeStore_isLoaded_partialStore_isRefused() throws Exception {
    FileKeyStore store = new FileKeyStore(dir);
    store.save(new KeyBootstrap(Clock.systemUTC()).generate("localhost", Optional.empty()));
    assertThat(KeyState.needsOnboarding(store, config(true, ""), Optional.empty())).isFalse();
    Files.delete(dir.resolve("rpc.key"));
    assertThatThrownBy(() -> KeyState.needsOnboarding(store, config(true, ""), Optional.empty()))
        .hasMessageContaining("rpc.key");
  }
}
