package dev.cvmkms.kms;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Writes docs/soak-pccs.md and docs/soak-pccs.png from a {@link PccsFreezeIT} long run. */
final class PccsFreezeReport {
  private PccsFreezeReport() {}

  static void write(
      List<PccsFreezeIT.Sample> samples,
      long seconds,
      Path dir,
      int pccsRequests,
      int blockedAfterReady,
      int blockedAtStartUp)
      throws Exception {
    Files.createDirectories(dir);
    plot(samples, dir.resolve("soak-pccs.png"));
    StringBuilder md = new StringBuilder();
    md.append("# PCCS freeze soak: GetAppKey while the PCCS hangs and throttles\n\n");
    md.append("Run ")
        .append(Instant.now())
        .append(" by `kms/bench/pccs-soak.sh --seconds ")
        .append(seconds)
        .append("` (PccsFreezeIT): the real jar (`kms dev --pccs-url`, PCCS deadline 3 s) with its")
        .append(" PCCS URL at a fault proxy in front of a PCS stub serving the mock PKI's")
        .append(" collateral. One client calls GetAppKey over RA-TLS (a new connection and client")
        .append(" certificate per call) for a platform whose collateral is cached, while the proxy")
        .append(" hangs (first half) and answers 429 without Retry-After (second half). In each")
        .append(" phase one platform with nothing cached asks once.\n\n");
    md.append("![GetAppKey latency over time](soak-pccs.png)\n\n");
    md.append("| phase | platform | calls | failed | p50 ms | p99 ms | max ms |\n");
    md.append("|---|---|---|---|---|---|---|\n");
    for (String phase : List.of("hang", "throttle")) {
      for (String platform : List.of("cached", "uncached")) {
        List<Long> l =
            samples.stream()
                .filter(s -> s.phase().equals(phase) && s.platform().equals(platform))
                .map(PccsFreezeIT.Sample::latencyMs)
                .sorted()
                .toList();
        long failed =
            samples.stream()
                .filter(
                    s ->
                        s.phase().equals(phase)
                            && s.platform().equals(platform)
                            && !s.outcome().equals("ok"))
                .count();
        if (l.isEmpty()) {
          continue;
        }
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %d | %d | %d | %d | %d |%n",
                phase,
                platform,
                l.size(),
                failed,
                l.get(l.size() / 2),
                l.get(Math.min(l.size() - 1, (int) Math.ceil(l.size() * 0.99) - 1)),
                l.get(l.size() - 1)));
      }
    }
    md.append("\nPCCS requests in the whole run: ")
        .append(pccsRequests)
        .append(" (the warm-up fetch plus one bounded fetch per uncached platform; cached calls")
        .append(" send none). Uncached platforms fail closed with `invalid quote: pccs ...` within")
        .append(" the deadline. Blocked-thread warnings after readiness (the fault phases): ")
        .append(blockedAfterReady)
        .append("; during start-up (cold JVM, shared 2-core machine): ")
        .append(blockedAtStartUp)
        .append(".\n");
    Files.writeString(dir.resolve("soak-pccs.md"), md.toString(), StandardCharsets.UTF_8);
  }

  private static void plot(List<PccsFreezeIT.Sample> samples, Path png) throws Exception {
    int w = 1200;
    int h = 480;
    int left = 70;
    int bottom = 50;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    long maxT = Math.max(1, samples.stream().mapToLong(PccsFreezeIT.Sample::atMs).max().orElse(1));
    long maxL =
        Math.max(50, samples.stream().mapToLong(PccsFreezeIT.Sample::latencyMs).max().orElse(50));
    int pw = w - left - 20;
    int ph = h - bottom - 40;
    // Phase shading.
    for (String phase : List.of("hang", "throttle")) {
      long a =
          samples.stream()
              .filter(s -> s.phase().equals(phase))
              .mapToLong(PccsFreezeIT.Sample::atMs)
              .min()
              .orElse(0);
      long b =
          samples.stream()
              .filter(s -> s.phase().equals(phase))
              .mapToLong(PccsFreezeIT.Sample::atMs)
              .max()
              .orElse(0);
      g.setColor(phase.equals("hang") ? new Color(255, 235, 235) : new Color(255, 245, 220));
      g.fillRect(left + (int) (a * pw / maxT), 40, (int) Math.max(2, (b - a) * pw / maxT), ph);
      g.setColor(Color.DARK_GRAY);
      g.drawString("PCCS " + phase, left + (int) (a * pw / maxT) + 4, 55);
    }
    g.setColor(Color.BLACK);
    g.drawRect(left, 40, pw, ph);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int i = 0; i <= 4; i++) {
      long v = maxL * i / 4;
      int y = 40 + ph - (int) (v * ph / maxL);
      g.drawString(v + " ms", 5, y + 4);
    }
    g.drawString("seconds since start (0 .. " + maxT / 1000 + ")", left + pw / 2 - 80, h - 15);
    g.drawString(
        "GetAppKey latency: blue = cached platform, red = platform with nothing cached (fails"
            + " closed)",
        left,
        25);
    g.setStroke(new BasicStroke(2));
    for (PccsFreezeIT.Sample s : samples) {
      int x = left + (int) (s.atMs() * pw / maxT);
      int y = 40 + ph - (int) (s.latencyMs() * ph / maxL);
      g.setColor(s.platform().equals("cached") ? new Color(30, 90, 200) : new Color(200, 30, 30));
      g.fillOval(
          x - 2,
          y - 2,
          s.platform().equals("cached") ? 4 : 8,
          s.platform().equals("cached") ? 4 : 8);
    }
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }
}
