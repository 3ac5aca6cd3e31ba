package dev.cvmkms.kms.client;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;

/**
 * A key manager holding exactly one key and its chain, offered for every client handshake. Vert.x
 * would otherwise turn a PEM pair into a PKCS#12 key store, whose key encryption (PBKDF2, 10 000
 * rounds) costs a third of a second on a cold JVM, for a key that only lives for one call.
 */
final class SingleKeyManager extends X509ExtendedKeyManager {
  private static final String ALIAS = "ra-tls-client";

  private final PrivateKey key;
  private final X509Certificate[] chain;

  SingleKeyManager(PrivateKey key, X509Certificate... chain) {
    this.key = Objects.requireNonNull(key, "key");
    if (chain.length == 0) {
      throw new IllegalArgumentException("a key needs its certificate");
    }
    this.chain = chain.clone();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return new String[] {ALIAS};
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return ALIAS;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return ALIAS;
  }

  @Override
  public String @Nullable [] getServerAliases(String keyType, Principal[] issuers) {
    return null; // a client key only
  }

  @Override
  public @Nullable String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public X509Certificate @Nullable [] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? chain.clone() : null;
  }

  @Override
  public @Nullable PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? key : null;
  }

  @Override
  public String toString() {
    return "SingleKeyManager[" + chain[0].getSubjectX500Principal() + ", key=<redacted>]";
  }
}
