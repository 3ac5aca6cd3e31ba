package dev.cvmkms.kms.auth;

import static dev.cvmkms.kms.auth.FakeWebhook.Async.await;
import static dev.cvmkms.kms.auth.FakeWebhook.Async.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class SelfAuthorizationTest {
  /** An in-memory policy whose kms answers a test scripts, counting the calls. */
  private static final class FakePolicy implements AuthPolicy {
    final List<BootInfo> kmsChecks = new CopyOnWriteArrayList<>();
    volatile Supplier<Future<BootDecision>> answer =
        () -> Future.succeededFuture(new BootDecision(true, "", "gw"));

    @Override
    public Future<AuthInfo> info() {
      return Future.succeededFuture(AuthInfo.dev("gw"));
    }

    @Override
    public Future<BootDecision> checkApp(BootInfo boot) {
      throw new AssertionError("self authorization must use /bootAuth/kms");
    }

    @Override
    public Future<BootDecision> checkKms(BootInfo boot) {
      kmsChecks.add(boot);
      return answer.get();
    }
  }

  private final FakePolicy policy = new FakePolicy();
  private final AtomicInteger attestations = new AtomicInteger();

  private Future<BootInfo> attest() {
    attestations.incrementAndGet();
    return Future.succeededFuture(Fixtures.boot());
  }

  @Test
  void bootInfoIsComputedOnce_butEveryCallIsChecked() throws Exception {
    SelfAuthorization self = new SelfAuthorization(policy, this::attest, true);

    for (int i = 0; i < 5; i++) {
      await(self.requireSelfAllowed());
    }

    assertThat(attestations).hasValue(1);
    assertThat(policy.kmsChecks).hasSize(5).containsOnly(Fixtures.boot());
  }

  @Test
  void notAllowed_failsAsDeniedWithTheReason() throws Exception {
    policy.answer = () -> Future.succeededFuture(new BootDecision(false, "mr not registered", ""));
    SelfAuthorization self = new SelfAuthorization(policy, this::attest, true);

    Throwable e = awaitFailure(self.requireSelfAllowed());

    assertThat(e).isInstanceOf(KmsException.class);
    assertThat(((KmsException) e).kind()).isEqualTo(KmsException.Kind.DENIED);
    assertThat(((KmsException) e).publicMessage())
        .isEqualTo("KMS self authorization failed: KMS is not allowed: mr not registered");
  }

  @Test
  void policyUnavailable_failsAsUpstreamUnavailable() throws Exception {
    policy.answer =
        () ->
            Future.failedFuture(
                new WebhookException(WebhookException.Outcome.OPEN, "auth api circuit open"));
    SelfAuthorization self = new SelfAuthorization(policy, this::attest, true);

    Throwable e = awaitFailure(self.requireSelfAllowed());

    assertThat(((KmsException) e).kind()).isEqualTo(KmsException.Kind.UPSTREAM_UNAVAILABLE);
    assertThat(e).hasMessage("KMS self authorization failed: auth api circuit open");
  }

  @Test
  void aFailedBootInfo_isNotCached() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Supplier<Future<BootInfo>> flaky =
        () ->
            calls.incrementAndGet() == 1
                ? Future.failedFuture(new IllegalStateException("guest agent not ready"))
                : Future.succeededFuture(Fixtures.boot());
    SelfAuthorization self = new SelfAuthorization(policy, flaky, true);

    Throwable e = awaitFailure(self.requireSelfAllowed());
    assertThat(e).hasMessage("KMS self authorization failed: guest agent not ready");
    assertThat(policy.kmsChecks).isEmpty();

    await(self.requireSelfAllowed());
    await(self.requireSelfAllowed());
    assertThat(calls).hasValue(2);
    assertThat(policy.kmsChecks).hasSize(2);
  }

  @Test
  void concurrentCalls_shareOneCheck_butTheNextCallChecksAgain() throws Exception {
    Promise<BootDecision> pending = Promise.promise();
    policy.answer = pending::future;
    SelfAuthorization self = new SelfAuthorization(policy, this::attest, true);

    List<Future<Void>> calls = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      calls.add(self.requireSelfAllowed());
    }
    assertThat(policy.kmsChecks).hasSize(1);
    pending.complete(new BootDecision(true, "", "gw"));
    for (Future<Void> f : calls) {
      await(f);
    }

    policy.answer = () -> Future.succeededFuture(new BootDecision(false, "revoked", ""));
    assertThat(awaitFailure(self.requireSelfAllowed())).hasMessageEndingWith("revoked");
    assertThat(policy.kmsChecks).hasSize(2);
    assertThat(attestations).hasValue(1);
  }

  @Test
  void disabled_checksNothing() throws Exception {
    SelfAuthorization self = new SelfAuthorization(policy, this::attest, false);

    await(self.requireSelfAllowed());

    assertThat(self.enforced()).isFalse();
    assertThat(attestations).hasValue(0);
    assertThat(policy.kmsChecks).isEmpty();
  }

  @Test
  void overTheWebhook_aKmsRevokedOnChainIsRefusedOnItsNextCall() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (FakeWebhook fake = FakeWebhook.start(vertx)) {
      WebhookAuthPolicy webhook =
          WebhookAuthPolicy.start(vertx, Fixtures.fast(fake.url()), new SimpleMeterRegistry(), "t");
      SelfAuthorization self = new SelfAuthorization(webhook, this::attest, true);

      await(self.requireSelfAllowed());
      fake.kms =
          FakeWebhook.json(200, "{\"isAllowed\":false,\"gatewayAppId\":\"\",\"reason\":\"gone\"}");
      Throwable denied = awaitFailure(self.requireSelfAllowed());
      fake.kms = FakeWebhook.hang();
      Throwable down = awaitFailure(self.requireSelfAllowed());

      assertThat(denied).hasMessage("KMS self authorization failed: KMS is not allowed: gone");
      assertThat(((KmsException) down).kind()).isEqualTo(KmsException.Kind.UPSTREAM_UNAVAILABLE);
      assertThat(down.getMessage())
          .startsWith("KMS self authorization failed: auth api " + fake.url() + " timed out after");
      assertThat(fake.kmsRequests).hasSize(3);
      assertThat(fake.kmsRequests.get(0).uri()).isEqualTo("/bootAuth/kms");
      assertThat(attestations).hasValue(1);
      await(webhook.close());
    } finally {
      await(vertx.close());
    }
  }
}
