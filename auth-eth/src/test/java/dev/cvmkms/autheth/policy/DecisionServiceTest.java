package dev.cvmkms.autheth.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.chain.BootInfo;
import dev.cvmkms.autheth.chain.KmsContract;
import dev.cvmkms.autheth.chain.RpcException;
import dev.cvmkms.autheth.config.Finality;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.Utf8String;

class DecisionServiceTest {
  final FakeChain chain = new FakeChain();
  final ManualScheduler clock = new ManualScheduler();
  final AtomicBoolean allowed = new AtomicBoolean(true);
  final BootInfo info =
      ((BootInfoParser.Valid) BootInfoParser.parse(BootInfoParserTest.kmsStyle())).info();

  DecisionServiceTest() {
    chain.answer =
        data -> {
          String selector = data.substring(2, 10);
          return switch (selector) {
            case "95f51931" ->
                "0x" + FunctionEncoder.encodeConstructor(List.of(new Utf8String("gw-1")));
            case "25a992da" ->
                "0x"
                    + FunctionEncoder.encodeConstructor(
                        List.of(new Address("0x5fbdb2315678afecb367f032d93f642f64180aa3")));
            case "1e079198", "e067ec9d" ->
                "0x"
                    + FunctionEncoder.encodeConstructor(
                        List.of(
                            new Bool(allowed.get()),
                            new Utf8String(allowed.get() ? "" : "Compose hash not allowed")));
            default -> "0x";
          };
        };
  }

  DecisionService service(Finality finality, OptionalLong expectedChain) {
    KmsContract contract = new KmsContract(chain, "0x" + "ab".repeat(20));
    MetadataCache cache =
        new MetadataCache(
            new MetadataLoader(contract, Duration.ofSeconds(5), clock::nanos),
            clock,
            clock::nanos,
            Duration.ofSeconds(60),
            Duration.ofSeconds(5));
    cache.start();
    return new DecisionService(
        contract, cache, finality, expectedChain, Duration.ofSeconds(5), clock::nanos);
  }

  static BootResponse result(Future<BootResponse> f) {
    assertThat(f.succeeded()).isTrue();
    return f.result();
  }

  @Test
  void oneEthCallPerDecisionAndGatewayFromTheCache() {
    DecisionService s = service(Finality.LATEST, OptionalLong.empty());
    long before = chain.count("eth_call");
    BootResponse r = result(s.decide(info, false));
    assertThat(r).isEqualTo(new BootResponse(true, "", "gw-1"));
    assertThat(chain.count("eth_call") - before).isEqualTo(1);
    JsonObject call = (JsonObject) chain.calls.get(chain.calls.size() - 1).params().getValue(0);
    assertThat(call.getString("data")).startsWith("0x1e079198");
    assertThat(chain.calls.get(chain.calls.size() - 1).params().getString(1)).isEqualTo("latest");
    assertThat(call.getString("to")).isEqualTo("0x" + "ab".repeat(20));
    assertThat(result(s.decide(info, true)).isAllowed()).isTrue();
    assertThat(
            ((JsonObject) chain.calls.get(chain.calls.size() - 1).params().getValue(0))
                .getString("data"))
        .startsWith("0xe067ec9d");
  }

  @Test
  void decisionsAreNeverCachedSoRevocationIsImmediate() {
    DecisionService s = service(Finality.LATEST, OptionalLong.empty());
    long before = chain.count("eth_call");
    assertThat(result(s.decide(info, false)).isAllowed()).isTrue();
    allowed.set(false);
    BootResponse r = result(s.decide(info, false));
    assertThat(r).isEqualTo(new BootResponse(false, "Compose hash not allowed", "gw-1"));
    allowed.set(true);
    assertThat(result(s.decide(info, false)).isAllowed()).isTrue();
    assertThat(chain.count("eth_call") - before).isEqualTo(3);
  }

  @Test
  void identicalConcurrentRequestsShareOneCallButNotAfterwards() {
    DecisionService s = service(Finality.LATEST, OptionalLong.empty());
    chain.hold = true;
    int start = chain.calls.size();
    Future<BootResponse> a = s.decide(info, false);
    Future<BootResponse> b = s.decide(info, false);
    Future<BootResponse> kms = s.decide(info, true); // different question: its own call
    assertThat(chain.calls.size() - start).isEqualTo(2);
    chain.hold = false;
    for (var c : List.copyOf(chain.calls.subList(start, chain.calls.size()))) {
      c.promise()
          .complete(chain.answer.apply(((JsonObject) c.params().getValue(0)).getString("data")));
    }
    assertThat(result(a).isAllowed()).isTrue();
    assertThat(result(b).isAllowed()).isTrue();
    assertThat(result(kms).isAllowed()).isTrue();
    assertThat(s.sharedCalls()).isEqualTo(1);
    result(s.decide(info, false));
    assertThat(chain.calls.size() - start).isEqualTo(3);
  }

  @Test
  void backendFailuresFailClosed() {
    DecisionService s = service(Finality.LATEST, OptionalLong.empty());
    chain.failure = new RpcException(RpcException.Kind.THROTTLED, "HTTP 429");
    assertThat(result(s.decide(info, false))).isEqualTo(BootResponse.unavailable());
    chain.failure = new RpcException(RpcException.Kind.REVERTED, "execution reverted");
    assertThat(result(s.decide(info, true))).isEqualTo(BootResponse.unavailable());
    chain.failure = null;
    chain.answer = data -> "0x";
    assertThat(result(s.decide(info, false))).isEqualTo(BootResponse.unavailable());
  }

  @Test
  void chainIdMismatchDeniesWithoutCalling() {
    DecisionService s = service(Finality.LATEST, OptionalLong.of(1));
    long before = chain.count("eth_call");
    assertThat(result(s.decide(info, false))).isEqualTo(BootResponse.unavailable());
    assertThat(chain.count("eth_call")).isEqualTo(before);
    assertThat(s.chainMatches(31337)).isFalse();
    DecisionService ok = service(Finality.LATEST, OptionalLong.of(31337));
    assertThat(result(ok.decide(info, false)).isAllowed()).isTrue();
  }

  @Test
  void readsAtTheConfiguredFinality() {
    DecisionService finalized = service(Finality.parse("finalized"), OptionalLong.empty());
    result(finalized.decide(info, false));
    assertThat(chain.calls.get(chain.calls.size() - 1).params().getString(1))
        .isEqualTo("finalized");
    DecisionService confirmed = service(Finality.parse("12"), OptionalLong.empty());
    long heads = chain.count("eth_blockNumber");
    result(confirmed.decide(info, false));
    assertThat(chain.count("eth_blockNumber") - heads).isEqualTo(1);
    assertThat(chain.calls.get(chain.calls.size() - 1).params().getString(1)).isEqualTo("0x58");
  }

  @Test
  void chainIdIsReadOnceAcrossRefreshes() {
    service(Finality.LATEST, OptionalLong.empty());
    clock.advance(60_000 * 5);
    assertThat(chain.count("eth_chainId")).isEqualTo(1);
    assertThat(chain.count("eth_call")).isEqualTo(2 * 6);
  }
}
