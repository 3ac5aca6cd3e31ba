package dev.cvmkms.kms.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.RootKeys;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The pure server checks, without a network. */
class ServerCertificateCheckTest {
  private static RootKeys keys(String domain) throws Exception {
    return new KeyBootstrap(Clock.systemUTC()).generate(domain, Optional.empty());
  }

  @Test
  void rpcCertificate_passes_forItsNames() throws Exception {
    RootKeys k = keys("localhost");
    for (String host : List.of("localhost", "LOCALHOST", "127.0.0.1")) {
      assertThat(
              ServerCertificateCheck.check(
                  List.of(k.rpcCertificate()), k.rootCaCertificate(), host, Instant.now()))
          .isEqualTo(k.rpcCertificate());
    }
    // A server that appends the root itself still passes.
    assertThat(
            ServerCertificateCheck.check(
                List.of(k.rpcCertificate(), k.rootCaCertificate()),
                k.rootCaCertificate(),
                "localhost",
                Instant.now()))
        .isEqualTo(k.rpcCertificate());
  }

  @Test
  void otherHost_otherRoot_rootAsLeaf_tempCaLeaf_andEmptyChain_fail() throws Exception {
    RootKeys k = keys("kms.example.test");
    RootKeys other = keys("kms.example.test");
    Instant now = Instant.now();
    assertThatThrownBy(
            () ->
                ServerCertificateCheck.check(
                    List.of(k.rpcCertificate()), k.rootCaCertificate(), "evil.example.test", now))
        .hasMessageContaining("not valid for host");
    assertThatThrownBy(
            () ->
                ServerCertificateCheck.check(
                    List.of(k.rpcCertificate()),
                    other.rootCaCertificate(),
                    "kms.example.test",
                    now))
        .hasMessageContaining("does not chain");
    assertThatThrownBy(
            () ->
                ServerCertificateCheck.check(
                    List.of(k.rootCaCertificate()), k.rootCaCertificate(), "kms.example.test", now))
        .hasMessageContaining("root CA itself");
    assertThatThrownBy(
            () ->
                ServerCertificateCheck.check(
                    List.of(k.tmpCaCertificate()), k.rootCaCertificate(), "kms.example.test", now))
        .hasMessageContaining("does not chain");
    assertThatThrownBy(
            () -> ServerCertificateCheck.check(List.of(), k.rootCaCertificate(), "x", now))
        .hasMessageContaining("no certificate");
  }

  @Test
  void expiredLeaf_fails() throws Exception {
    RootKeys k = keys("localhost");
    Instant later = Instant.now().plus(java.time.Duration.ofDays(3700));
    assertThatThrownBy(
            () ->
                ServerCertificateCheck.check(
                    List.of(k.rpcCertificate()), k.rootCaCertificate(), "localhost", later))
        .hasMessageContaining("does not chain");
  }

  @Test
  void ipLiterals_areRecognisedWithoutLookups() {
    assertThat(ServerCertificateCheck.ipLiteral("127.0.0.1")).containsExactly(127, 0, 0, 1);
    assertThat(ServerCertificateCheck.ipLiteral("[::1]")).hasSize(16);
    assertThat(ServerCertificateCheck.ipLiteral("localhost")).isNull();
    assertThat(ServerCertificateCheck.ipLiteral("kms.example.com")).isNull();
  }
}
