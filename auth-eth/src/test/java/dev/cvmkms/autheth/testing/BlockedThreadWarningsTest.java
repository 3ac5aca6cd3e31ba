package dev.cvmkms.autheth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BlockedThreadWarningsTest {
  private static final String HEAD =
      "22:07:41.989 WARN  [vertx-blocked-thread-checker] i.v.core.impl.BlockedThreadChecker -"
          + " Thread vert.x-eventloop-thread-1 has been blocked for 1099 ms, time limit is 1000 ms\n"
          + "io.vertx.core.VertxException: Thread blocked\n";

  @Test
  void classLoadingUnderStarvation_isNotABlock() {
    String log =
        "22:07:37.359 WARN  [main] something else\n"
            + HEAD
            + "\tat java.base/java.lang.ClassLoader.defineClass0(Native Method)\n"
            + "\tat java.base/java.lang.System$1.defineClass(System.java:2051)\n"
            + "\tat io.vertx.core.impl.transports.NioTransport.channelFactory(NioTransport.java:85)\n"
            + "22:07:42.000 INFO  [main] next line\n";

    assertThat(BlockedThreadWarnings.parse(log)).hasSize(1);
    assertThat(BlockedThreadWarnings.parse(log).get(0).frames()).hasSize(3);
    assertThat(BlockedThreadWarnings.blocking(log)).isEmpty();
  }

  @Test
  void aStaticInitializerNearTheTop_isSchedulingDelay() {
    String log =
        HEAD
            + "\tat java.base/java.lang.Class.forName0(Native Method)\n"
            + "\tat io.vertx.core.spi.tls.DefaultJDKCipherSuite.<clinit>(DefaultJDKCipherSuite.java:30)\n";
    assertThat(BlockedThreadWarnings.blocking(log)).isEmpty();
  }

  @Test
  void frameworkWorkWaitingForACpu_isNotABlock() {
    String log =
        HEAD
            + "\tat io.netty.channel.AbstractChannel.newChannelPipeline(AbstractChannel.java:118)\n"
            + "\tat io.vertx.core.http.impl.HttpClientRequestImpl.doWrite(HttpClientRequestImpl.java:520)\n"
            + "\tat dev.cvmkms.kms.auth.HttpExchange.lambda$start$1(HttpExchange.java:92)\n";
    assertThat(BlockedThreadWarnings.blocking(log)).isEmpty();
  }

  @Test
  void cryptoOnTheEventLoop_isABlock() {
    String log =
        HEAD
            + "\tat java.base/sun.security.ec.ECDSASignature.engineVerify(ECDSASignature.java:1)\n"
            + "\tat dev.cvmkms.kms.attestation.dcap.QuoteVerifier.verify(QuoteVerifier.java:1)\n";
    assertThat(BlockedThreadWarnings.blocking(log)).hasSize(1);
  }

  @Test
  void aBlockingCall_orAWarningWithoutAStack_isABlock() {
    String io =
        HEAD
            + "\tat java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)\n"
            + "\tat java.base/java.net.http.HttpClient.send(HttpClient.java:1)\n"
            + "\tat dev.cvmkms.kms.Foo.handle(Foo.java:1)\n";
    String noStack =
        "WARN i.v.core.impl.BlockedThreadChecker - Thread vert.x-eventloop-thread-0 has been blocked"
            + " for 2100 ms, time limit is 2000 ms\n"
            + "INFO next\n";

    assertThat(BlockedThreadWarnings.blocking(io)).hasSize(1);
    assertThat(BlockedThreadWarnings.blocking(noStack)).hasSize(1);
    assertThat(BlockedThreadWarnings.blocking(io + noStack)).hasSize(2);
  }
}
