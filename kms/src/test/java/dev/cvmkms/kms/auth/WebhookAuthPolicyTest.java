package dev.cvmkms.kms.auth;

import static dev.cvmkms.kms.auth.FakeWebhook.Async.await;
import static dev.cvmkms.kms.auth.FakeWebhook.Async.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.KmsException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WebhookAuthPolicyTest {
  private static final String DENY =
      "{\"isAllowed\":false,\"gatewayAppId\":\"\",\"reason\":\"compose hash not allowed\"}";

  private TestVertx testVertx;
  private Vertx vertx;
  private FakeWebhook fake;
  private WebhookAuthPolicy policy;
  private SimpleMeterRegistry registry;

  @BeforeEach
  void setUp() throws Exception {
    testVertx = new TestVertx();
    vertx = testVertx.vertx;
    fake = FakeWebhook.start(vertx);
    registry = new SimpleMeterRegistry();
    policy = WebhookAuthPolicy.start(vertx, Fixtures.fast(fake.url()), registry, "t");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(policy.close());
    fake.close();
    testVertx.closeAndAssertNeverBlocked();
  }

  @Test
  void twoSequentialIdenticalChecks_makeTwoUpstreamCalls() throws Exception {
    assertThat(await(policy.checkApp(Fixtures.boot())).isAllowed()).isTrue();
    assertThat(await(policy.checkApp(Fixtures.boot())).isAllowed()).isTrue();

    assertThat(fake.appRequests).hasSize(2);
  }

  @Test
  void concurrentIdenticalChecks_shareOneUpstreamCall() throws Exception {
    fake.app = fake.slow(200, FakeWebhook.json(200, FakeWebhook.ALLOW));

    List<Future<BootDecision>> checks = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      checks.add(policy.checkApp(Fixtures.boot()));
    }
    for (Future<BootDecision> f : checks) {
      assertThat(await(f).isAllowed()).isTrue();
    }

    assertThat(fake.appRequests).hasSize(1);
  }

  @Test
  void concurrentDifferentChecks_areNotShared() throws Exception {
    fake.app = fake.slow(100, FakeWebhook.json(200, FakeWebhook.ALLOW));
    fake.kms = fake.slow(100, FakeWebhook.json(200, FakeWebhook.ALLOW));

    Future<BootDecision> a =
        policy.checkApp(Fixtures.boot("1111111111111111111111111111111111111111"));
    Future<BootDecision> b =
        policy.checkApp(Fixtures.boot("2222222222222222222222222222222222222222"));
    Future<BootDecision> k =
        policy.checkKms(Fixtures.boot("1111111111111111111111111111111111111111"));
    await(a);
    await(b);
    await(k);

    assertThat(fake.appRequests).hasSize(2);
    assertThat(fake.kmsRequests).hasSize(1);
  }

  @Test
  void aRevokedDecision_takesEffectOnTheNextCall() throws Exception {
    assertThat(await(policy.checkApp(Fixtures.boot())).isAllowed()).isTrue();

    fake.app = FakeWebhook.json(200, DENY);
    BootDecision next = await(policy.checkApp(Fixtures.boot()));

    assertThat(next.isAllowed()).isFalse();
    assertThat(next.reason()).isEqualTo("compose hash not allowed");
  }

  @Test
  void aSharedDenial_isNotReusedByTheNextCall() throws Exception {
    fake.app =
        FakeWebhook.sequence(
            fake.slow(150, FakeWebhook.json(200, DENY)), FakeWebhook.json(200, FakeWebhook.ALLOW));

    Future<BootDecision> first = policy.checkApp(Fixtures.boot());
    Future<BootDecision> joined = policy.checkApp(Fixtures.boot());
    assertThat(await(first).isAllowed()).isFalse();
    assertThat(await(joined).isAllowed()).isFalse();

    assertThat(await(policy.checkApp(Fixtures.boot())).isAllowed()).isTrue();
    assertThat(fake.appRequests).hasSize(2);
  }

  @Test
  void anErrorIsNotReused_andFailsClosedAsUpstreamUnavailable() throws Exception {
    fake.kms =
        FakeWebhook.sequence(FakeWebhook.status(500), FakeWebhook.json(200, FakeWebhook.ALLOW));

    Throwable e = awaitFailure(policy.checkKms(Fixtures.boot()));

    assertThat(e).isInstanceOf(KmsException.class);
    assertThat(((KmsException) e).kind()).isEqualTo(KmsException.Kind.UPSTREAM_UNAVAILABLE);
    assertThat(((KmsException) e).publicMessage())
        .startsWith("auth api " + fake.url() + " returned 500");
    assertThat(await(policy.checkKms(Fixtures.boot())).isAllowed()).isTrue();
  }

  @Test
  void info_comesFromTheCache() throws Exception {
    AuthInfo first = await(policy.info());
    int calls = fake.infoRequests.size();
    double before = registry.get("kms.auth.info.loads").tag("reason", "read").counter().count();
    fake.info = FakeWebhook.hang();

    for (int i = 0; i < 10; i++) {
      assertThat(await(policy.info())).isEqualTo(first);
    }
    assertThat(first.isDev()).isFalse();
    assertThat(first.kmsContractAddress()).contains("0xabc");
    assertThat(first.appAuthImplementation()).contains("0ximpl");
    // By cause: the reads started no load (whatever the refresh timer did meanwhile).
    assertThat(registry.get("kms.auth.info.loads").tag("reason", "read").counter().count())
        .isEqualTo(before);
    assertThat(calls).isPositive();
  }
}
