package dev.cvmkms.ansible;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs Debian's {@code ansible-playbook} / {@code ansible-lint} as processes from the {@code
 * ansible/} directory with its {@code ansible.cfg}. Output (stdout and stderr) goes to a file that
 * the result carries; a run past its deadline is killed with its whole process tree.
 */
final class Ansible {
  static final Path DIR =
      Path.of(System.getProperty("ansible.dir", "..")).toAbsolutePath().normalize();
  static final Path REPO =
      Path.of(System.getProperty("repo.root", "../..")).toAbsolutePath().normalize();

  private Ansible() {}

  /** Exit code, combined output and how long it took. */
  record Result(int exit, String output, Duration elapsed) {
    Result assertOk() {
      if (exit != 0) {
        throw new AssertionError("exit " + exit + "\n" + output);
      }
      return this;
    }
  }

  static Result playbook(Path tmp, Duration deadline, String playbook, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ansible-playbook", "playbooks/" + playbook));
    cmd.addAll(List.of(args));
    return run(tmp, deadline, cmd, Map.of());
  }

  static Result run(Path tmp, Duration deadline, List<String> cmd, Map<String, String> env)
      throws Exception {
    Path out = Files.createTempFile(tmp, "ansible-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(DIR.toFile());
    pb.environment().put("ANSIBLE_CONFIG", DIR.resolve("ansible.cfg").toString());
    pb.environment().put("ANSIBLE_NOCOLOR", "1");
    pb.environment().put("ANSIBLE_FORCE_COLOR", "0");
    pb.environment().put("ANSIBLE_LOCAL_TEMP", tmp.resolve("ansible-tmp").toString());
    pb.environment().put("ANSIBLE_REMOTE_TEMP", tmp.resolve("ansible-tmp").toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(out.toFile());
    long start = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(deadline.toSeconds(), TimeUnit.SECONDS)) {
      killTree(p.toHandle());
      throw new AssertionError(
          String.join(" ", cmd) + " did not finish within " + deadline + ":\n" + read(out));
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    return new Result(p.exitValue(), read(out), took);
  }

  static void killTree(ProcessHandle h) {
    h.descendants().forEach(ProcessHandle::destroyForcibly);
    h.destroyForcibly();
  }

  private static String read(Path f) throws IOException {
    return Files.readString(f, StandardCharsets.UTF_8);
  }

  /** {@code -e key=value} pairs as one JSON extra-vars document (values keep their types). */
  static String[] vars(Map<String, ?> vars) throws Exception {
    return new String[] {"-e", json(vars)};
  }

  /** Extra vars as one JSON document. */
  static String json(Map<String, ?> vars) throws Exception {
    return Json.MAPPER.writeValueAsString(vars);
  }
}
