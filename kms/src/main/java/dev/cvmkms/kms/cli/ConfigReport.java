package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.config.ConfigCheck;
import dev.cvmkms.kms.config.UpstreamKeys;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;

/**
 * What {@code kms serve} says about a loaded config: the start-up log lines (each upstream-only key
 * once, each insecure setting) and the {@code --check-config} report on stdout.
 */
final class ConfigReport {
  private ConfigReport() {}

  /** One line per upstream-only key present, at start-up. */
  static void logUpstreamKeys(ConfigCheck check, Logger log) {
    for (UpstreamKeys.Entry e : check.upstreamKeys()) {
      log.info("config {}", e.notice());
    }
    check.warnings().forEach(w -> log.warn("config: {}", w));
  }

  /**
   * The {@code --check-config} report: effective settings (secrets redacted), upstream keys,
   * insecure settings, warnings, and the verdict.
   *
   * @return whether {@code kms serve} would start with this config and these flags
   */
  static boolean print(ConfigCheck check, String source, boolean allowInsecure, PrintWriter out) {
    out.println("# kms serve --check-config " + source);
    out.println("# effective settings (secrets redacted; \"unset\": not configured)");
    for (Map.Entry<String, String> e : check.effective().entrySet()) {
      out.println(e.getKey() + " = " + e.getValue());
    }
    out.println();
    section(
        out,
        "upstream dstack keys (accepted for compatibility)",
        check.upstreamKeys().stream().map(UpstreamKeys.Entry::notice).toList());
    List<String> insecure = check.config().insecureSettings();
    section(out, "insecure settings (need --allow-insecure)", insecure);
    section(out, "warnings", check.warnings());
    boolean starts = insecure.isEmpty() || allowInsecure;
    out.println(
        starts
            ? "result: OK, kms serve would start with this config"
            : "result: REFUSED, insecure settings without --allow-insecure");
    out.flush();
    return starts;
  }

  private static void section(PrintWriter out, String title, List<String> lines) {
    out.println("# " + title + ":" + (lines.isEmpty() ? " none" : ""));
    lines.forEach(l -> out.println("#   " + l));
  }
}
