package dev.cvmkms.kms.soak;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/** Draws GetMeta latency over time (p50, p99, max per second) with the fault phases shaded. */
final class SoakPlot {
  private static final int W = 1200;
  private static final int H = 520;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 40;
  private static final int BOTTOM = 60;

  private SoakPlot() {}

  static void write(
      Path png, List<SoakRecorder.Call> calls, List<FreezeSoak.Phase> phases, long totalMs)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    Map<Long, List<Long>> perSecond = new TreeMap<>();
    for (SoakRecorder.Call c : calls) {
      if (c.outcome().equals("ok")) {
        perSecond
            .computeIfAbsent(c.startMs() / 1000, k -> new java.util.ArrayList<>())
            .add(c.latencyMicros());
      }
    }
    double yMaxMs = 60;
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    int plotW = W - LEFT - RIGHT;
    int plotH = H - TOP - BOTTOM;
    Color[] shades = {
      new Color(235, 245, 235),
      new Color(255, 232, 214),
      new Color(255, 214, 214),
      new Color(225, 235, 250)
    };
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int i = 0;
    for (FreezeSoak.Phase p : phases) {
      int x0 = LEFT + (int) ((double) p.startMs() / totalMs * plotW);
      int x1 = LEFT + (int) ((double) Math.min(p.endMs(), totalMs) / totalMs * plotW);
      g.setColor(shades[i++ % shades.length]);
      g.fillRect(x0, TOP, Math.max(1, x1 - x0), plotH);
      g.setColor(Color.DARK_GRAY);
      g.drawString(p.name(), x0 + 4, TOP + 14);
    }
    g.setColor(Color.GRAY);
    for (int ms = 0; ms <= yMaxMs; ms += 10) {
      int y = TOP + plotH - (int) (ms / yMaxMs * plotH);
      g.drawLine(LEFT - 4, y, LEFT + plotW, y);
      g.drawString(ms + " ms", 10, y + 4);
    }
    int y50 = TOP + plotH - (int) (50 / yMaxMs * plotH);
    g.setColor(Color.RED);
    g.setStroke(
        new BasicStroke(
            1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
    g.drawLine(LEFT, y50, LEFT + plotW, y50);
    g.drawString("p99 limit 50 ms", LEFT + plotW - 110, y50 - 4);
    g.setStroke(new BasicStroke(1.5f));
    drawSeries(g, perSecond, 50, new Color(40, 120, 40), totalMs, plotW, plotH, yMaxMs);
    drawSeries(g, perSecond, 99, new Color(30, 60, 200), totalMs, plotW, plotH, yMaxMs);
    drawSeries(g, perSecond, 100, new Color(150, 150, 150), totalMs, plotW, plotH, yMaxMs);
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, plotW, plotH);
    for (long s = 0; s * 1000 <= totalMs; s += Math.max(1, totalMs / 1000 / 10)) {
      int x = LEFT + (int) ((double) s * 1000 / totalMs * plotW);
      g.drawString(s + " s", x - 10, TOP + plotH + 18);
    }
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.drawString(
        "GetMeta latency per second (green p50, blue p99, grey max; clipped at "
            + (int) yMaxMs
            + " ms)",
        LEFT,
        24);
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }

  private static void drawSeries(
      Graphics2D g,
      Map<Long, List<Long>> perSecond,
      int pct,
      Color color,
      long totalMs,
      int plotW,
      int plotH,
      double yMaxMs) {
    g.setColor(color);
    int px = -1;
    int py = -1;
    for (Map.Entry<Long, List<Long>> e : perSecond.entrySet()) {
      long[] l = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
      int idx = (int) Math.min(l.length - 1, Math.max(0, Math.ceil(pct / 100.0 * l.length) - 1));
      double ms = Math.min(yMaxMs, l[idx] / 1000.0);
      int x = LEFT + (int) ((e.getKey() * 1000 + 500.0) / totalMs * plotW);
      int y = TOP + plotH - (int) (ms / yMaxMs * plotH);
      if (px >= 0) {
        g.drawLine(px, py, x, y);
      }
      px = x;
      py = y;
    }
  }
}
