package dev.cvmkms.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command run to completion with a time bound: the scripts, docker and docker-compose CLIs. */
record Cmd(int exit, String out, String err) {
  static Cmd run(Duration max, Map<String, String> env, Path dir, String... command)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(List.of(command)).directory(dir.toFile());
    pb.environment().putAll(env);
    Path out = Files.createTempFile("cvmimage-cmd", ".out");
    Path err = Files.createTempFile("cvmimage-cmd", ".err");
    pb.redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p = pb.start();
    try {
      if (!p.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        throw new IllegalStateException(
            String.join(" ", command)
                + " did not finish within "
                + max
                + ": "
                + Files.readString(err));
      }
      return new Cmd(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  Cmd ok(String what) {
    if (exit != 0) {
      throw new AssertionError(
          what + " exited " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err);
    }
    return this;
  }
}
