package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class InMemoryKeyStoreTest extends KeyStoreContractTest {
  @Override
  protected KeyStore newStore() {
    return new InMemoryKeyStore();
  }

  @Test
  void save_writesInDstackOrder() throws Exception {
    InMemoryKeyStore memory = (InMemoryKeyStore) store;
    RootKeys keys = TestKeys.unattested();
    memory.save(keys, Optional.of(KeyBootstrap.attestKeys(keys, new FakeAttester())));
    assertThat(memory.writeLog())
        .containsExactly(
            "bootstrap-info.json",
            "tmp-ca.key",
            "root-ca.key",
            "rpc.key",
            "root-k256.key",
            "tmp-ca.crt",
            "root-ca.crt",
            "rpc.crt",
            "rpc-domain");
  }
}
