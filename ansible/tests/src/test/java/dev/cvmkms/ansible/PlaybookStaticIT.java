package dev.cvmkms.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every playbook passes {@code ansible-playbook --syntax-check}, and ansible-lint (production
 * profile) passes on explicit paths with the number of linted files asserted, so that a lint of
 * nothing cannot pass.
 */
class PlaybookStaticIT {
  /** The playbooks are an interface: exactly these names. */
  static final List<String> PLAYBOOKS =
      List.of(
          "bootstrap-kms.yml",
          "build-images.yml",
          "debug-kms.yml",
          "deploy-contracts.yml",
          "deploy-cvm.yml",
          "deploy-local.yml",
          "onboard-replica.yml",
          "teardown-local.yml",
          "verify-kms.yml");

  @TempDir Path tmp;

  @Test
  void thePlaybooksAreExactlyTheNamedOnes_andEachPassesTheSyntaxCheck() throws Exception {
    try (Stream<Path> s = Files.list(Ansible.DIR.resolve("playbooks"))) {
      assertThat(s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted())
          .containsExactlyElementsOf(PLAYBOOKS);
    }
    for (String p : PLAYBOOKS) {
      Ansible.Result r =
          Ansible.run(
              tmp,
              Duration.ofMinutes(2),
              List.of(
                  "ansible-playbook",
                  "--syntax-check",
                  "-i",
                  "inventory/local.yml",
                  "playbooks/" + p),
              Map.of());
      assertThat(r.exit()).as(p + ":\n" + r.output()).isZero();
      assertThat(r.output()).contains("playbook: playbooks/" + p);
    }
    // The example inventory parses and has the group the TDX playbooks target.
    Ansible.Result inv =
        Ansible.run(
            tmp,
            Duration.ofMinutes(2),
            List.of(
                "ansible-inventory", "-i", "inventory/hosts.example.yml", "--graph", "tdx_hosts"),
            Map.of());
    assertThat(inv.exit()).as(inv.output()).isZero();
    assertThat(inv.output()).contains("tdx-1").contains("tdx-2");
  }

  @Test
  void ansibleLintPassesOnEveryPlaybookAndRoleFile() throws Exception {
    List<String> files = yamlFiles();
    // Playbooks, task files, defaults, group_vars, inventories and the secrets example.
    assertThat(files).hasSizeGreaterThan(PLAYBOOKS.size() + 20);
    List<String> cmd = new ArrayList<>(List.of("ansible-lint", "--offline", "-p", "--nocolor"));
    cmd.addAll(files);
    Ansible.Result r = Ansible.run(tmp, Duration.ofMinutes(15), cmd, Map.of());
    assertThat(r.exit()).as(r.output()).isZero();
    Matcher m = Pattern.compile("on (\\d+) files").matcher(r.output());
    assertThat(m.find()).as(r.output()).isTrue();
    assertThat(Integer.parseInt(m.group(1))).as(r.output()).isEqualTo(files.size());
  }

  /** Every YAML file of the Ansible tree (not the tests' fixtures), relative to ansible/. */
  static List<String> yamlFiles() throws Exception {
    List<String> out = new ArrayList<>();
    for (String dir : List.of("playbooks", "roles", "group_vars", "inventory", "vars")) {
      try (Stream<Path> s = Files.walk(Ansible.DIR.resolve(dir))) {
        s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            .filter(p -> p.toString().endsWith(".yml"))
            .filter(p -> !p.getFileName().toString().equals("local-secrets.yml"))
            .map(p -> Ansible.DIR.relativize(p).toString())
            .sorted()
            .forEach(out::add);
      }
    }
    return out;
  }
}
