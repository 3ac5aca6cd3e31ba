package dev.cvmkms.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify-kms.yml against the fake KMS: the freeze (GetMeta answers a few times, then hangs) fails
 * the sustained check at the first hung call, naming it, within verify_successes x (interval +
 * timeout); a KMS that keeps answering passes, and a wrong contract address is caught.
 */
class VerifyKmsIT {
  private static final int N = 10;
  private static final int INTERVAL = 1;
  private static final int TIMEOUT = 3;
  private static final int ANSWERS = 3;

  @TempDir Path tmp;

  private Ansible.Result verify(Fake kms, Map<String, ?> extra) throws Exception {
    Map<String, Object> vars =
        new java.util.HashMap<>(
            Map.of(
                "kms_url", kms.url(),
                "verify_successes", N,
                "verify_interval", INTERVAL,
                "verify_timeout", TIMEOUT));
    vars.putAll(extra);
    return Ansible.playbook(tmp, Duration.ofMinutes(5), "verify-kms.yml", Ansible.vars(vars));
  }

  @Test
  void aKmsThatAnswersThreeTimesThenHangs_failsAtTheFourthCall_withinTheBound() throws Exception {
    Path calls = tmp.resolve("kms-calls.jsonl");
    try (Fake kms =
        Fake.start(
            tmp.resolve("kms.log"),
            "fake_kms.py",
            "--calls",
            calls.toString(),
            "--getmeta-answers",
            "" + ANSWERS)) {
      Ansible.Result r = verify(kms, Map.of());
      assertThat(r.exit()).as(r.output()).isNotZero();
      assertThat(r.output())
          .contains(
              "GetMeta call "
                  + (ANSWERS + 1)
                  + " of "
                  + N
                  + " to "
                  + kms.url()
                  + " did not answer within "
                  + TIMEOUT
                  + " s (hung) (after "
                  + ANSWERS
                  + " consecutive successes)");
      // It stopped at the hung call: no further GetMeta was sent, and GetTempCaCert not at all.
      List<JsonNode> c = Json.lines(calls);
      assertThat(c).extracting(x -> x.get("path").asText()).containsOnly("/prpc/KMS.GetMeta");
      assertThat(c).hasSize(ANSWERS + 1);
      // One hung call at most: the whole check is bounded by N x (interval + timeout), whatever
      // the machine's speed; the play (with Ansible's own start-up) stays inside that bound too.
      assertThat(r.elapsed()).isLessThan(Duration.ofSeconds((long) N * (INTERVAL + TIMEOUT)));
    }
  }

  @Test
  void aKmsThatKeepsAnswering_passes_andAWrongContractIsCaught() throws Exception {
    Path calls = tmp.resolve("kms-calls.jsonl");
    try (Fake kms =
        Fake.start(tmp.resolve("kms.log"), "fake_kms.py", "--calls", calls.toString())) {
      Map<String, Object> chain =
          Map.of(
              "verify_successes", 3,
              "kms_contract_addr", "0x5fbdb2315678afecb367f032d93f642f64180aa3",
              "eth_chain_id", 31337);
      Ansible.Result ok = verify(kms, chain).assertOk();
      assertThat(ok.output()).contains("GetMeta answered 3 times in a row");
      assertThat(ok.output()).contains("GetTempCaCert answered");
      assertThat(ok.output()).doesNotContain("not-a-key"); // the temp CA key stays out of the log

      Ansible.Result wrong =
          verify(
              kms,
              Map.of(
                  "verify_successes", 3,
                  "kms_contract_addr", "0x" + "12".repeat(20),
                  "eth_chain_id", 1));
      assertThat(wrong.exit()).isNotZero();
      assertThat(wrong.output())
          .contains("GetMeta call 1 of 3")
          .contains("kms_contract_address is 0x5FbDB2315678afecb367f032d93F642f64180aa3")
          .contains("chain_id is 31337, expected 1");
    }
  }
}
