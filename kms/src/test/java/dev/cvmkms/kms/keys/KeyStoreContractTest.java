package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Behaviour every {@link KeyStore} must have; run against each implementation. */
abstract class KeyStoreContractTest {
  protected KeyStore store;

  /** A new, empty store. */
  protected abstract KeyStore newStore() throws Exception;

  @BeforeEach
  void createStore() throws Exception {
    store = newStore();
  }

  @Test
  void newStore_isEmpty() throws Exception {
    assertThat(store.state()).isEqualTo(KeyStore.State.EMPTY);
    assertThat(store.hasAnyKey()).isFalse();
    assertThat(store.hasBootstrapInfo()).isFalse();
    assertThat(store.bootstrapInfo()).isEmpty();
    assertThatThrownBy(store::load)
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("no keys");
  }

  @Test
  void save_thenLoad_returnsSameKeysCertificatesAndDomain() throws Exception {
    RootKeys keys = TestKeys.unattested();
    store.save(keys);

    assertThat(store.state()).isEqualTo(KeyStore.State.COMPLETE);
    assertThat(store.hasAnyKey()).isTrue();
    RootKeys loaded = store.load();
    assertThat(loaded.k256CompressedPublicKey()).isEqualTo(keys.k256CompressedPublicKey());
    assertThat(loaded.secretK256Scalar()).isEqualTo(keys.secretK256Scalar());
    assertThat(loaded.rootCaSpkiDer()).isEqualTo(keys.rootCaSpkiDer()).hasSize(91);
    assertThat(loaded.secretTmpCaKeyPem()).isEqualTo(keys.secretTmpCaKeyPem());
    assertThat(loaded.secretRootCaKeyPem()).isEqualTo(keys.secretRootCaKeyPem());
    assertThat(loaded.secretRpcKeyPem()).isEqualTo(keys.secretRpcKeyPem());
    assertThat(loaded.tmpCaCertPem()).isEqualTo(keys.tmpCaCertPem());
    assertThat(loaded.rootCaCertPem()).isEqualTo(keys.rootCaCertPem());
    assertThat(loaded.rpcCertPem()).isEqualTo(keys.rpcCertPem());
    assertThat(loaded.rpcDomain()).isEqualTo(TestKeys.DOMAIN);
    assertThat(store.hasBootstrapInfo()).isFalse();
  }

  @Test
  void save_refusesToOverwriteExistingKeys() throws Exception {
    RootKeys first = TestKeys.unattested();
    store.save(first);

    assertThatThrownBy(() -> store.save(TestKeys.unattested()))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("refusing")
        .hasMessageContaining("root-ca.key")
        .hasMessageContaining("root-k256.key");
    assertThat(store.load().k256CompressedPublicKey()).isEqualTo(first.k256CompressedPublicKey());
    assertThat(store.load().rootCaSpkiDer()).isEqualTo(first.rootCaSpkiDer());
  }

  @Test
  void save_withBootstrapInfo_storesIt() throws Exception {
    RootKeys keys = TestKeys.unattested();
    BootstrapInfo info = KeyBootstrap.attestKeys(keys, new FakeAttester());
    store.save(keys, Optional.of(info));

    assertThat(store.hasBootstrapInfo()).isTrue();
    assertThat(store.bootstrapInfo()).hasValue(info);
  }

  @Test
  void saveCertificates_rewritesOnlyTheChosenCertificates() throws Exception {
    RootKeys keys = TestKeys.unattested();
    store.save(keys);
    InMemoryKeyStore scratch = new InMemoryKeyStore();
    scratch.save(keys);
    RootKeys renewed =
        new CertRenewal(TestKeys.clockAt(TestKeys.NOW.plusSeconds(60)))
            .renewOnStart(scratch, Optional.empty(), Optional.empty());

    store.saveCertificates(renewed, EnumSet.of(KeyStore.CertFile.RPC));

    RootKeys loaded = store.load();
    assertThat(loaded.rpcCertPem()).isEqualTo(renewed.rpcCertPem()).isNotEqualTo(keys.rpcCertPem());
    assertThat(loaded.rootCaCertPem()).isEqualTo(keys.rootCaCertPem());
    assertThat(loaded.tmpCaCertPem()).isEqualTo(keys.tmpCaCertPem());
    assertThat(loaded.secretRootCaKeyPem()).isEqualTo(keys.secretRootCaKeyPem());
  }

  @Test
  void saveCertificates_refusesCertificatesOfOtherKeys() throws Exception {
    RootKeys keys = TestKeys.unattested();
    store.save(keys);
    RootKeys other = TestKeys.unattested();

    assertThatThrownBy(() -> store.saveCertificates(other, Set.of(KeyStore.CertFile.values())))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("keys other than the stored ones");
    assertThat(store.load().rootCaCertPem()).isEqualTo(keys.rootCaCertPem());
  }

  @Test
  void saveCertificates_onEmptyStore_fails() {
    assertThatThrownBy(
            () -> store.saveCertificates(TestKeys.unattested(), Set.of(KeyStore.CertFile.RPC)))
        .isInstanceOf(KeyStoreException.class);
  }

  @Test
  void state_isReadAgainAfterSave() throws Exception {
    assertThat(store.state()).isEqualTo(KeyStore.State.EMPTY);
    store.save(TestKeys.generate("203.0.113.7", Optional.empty()));
    assertThat(store.state()).isEqualTo(KeyStore.State.COMPLETE);
    assertThat(store.load().rpcDomain()).isEqualTo("203.0.113.7");
  }
}
