package dev.cvmkms.kms.soak;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/** Thread-safe record of every GetMeta call and of the periodic process samples. */
final class SoakRecorder {
  /** One GetMeta call: when it started (ms since the soak began), how long it took, its outcome. */
  record Call(long startMs, long latencyMicros, String outcome, String phase) {}

  /** One sample of both JVMs and of the upstream counters. */
  record Sample(
      long atMs,
      String phase,
      int kmsFds,
      int kmsThreads,
      int authFds,
      int authThreads,
      long upstreamCalls) {}

  private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
  private final List<Sample> samples = new ArrayList<>();
  private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
  private volatile long firstSuccessMs = -1;

  void call(long startMs, long latencyMicros, String outcome, String phase) {
    calls.add(new Call(startMs, latencyMicros, outcome, phase));
    outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
    if (outcome.equals("ok") && firstSuccessMs < 0) {
      synchronized (this) {
        if (firstSuccessMs < 0) {
          firstSuccessMs = startMs;
        }
      }
    }
  }

  synchronized void sample(Sample s) {
    samples.add(s);
  }

  List<Call> calls() {
    return new ArrayList<>(calls);
  }

  synchronized List<Sample> samples() {
    return new ArrayList<>(samples);
  }

  Map<String, Long> outcomes() {
    Map<String, Long> m = new TreeMap<>();
    outcomes.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** Failed calls that started after the first success (the freeze criterion). */
  long failuresAfterFirstSuccess() {
    long first = firstSuccessMs;
    return calls.stream()
        .filter(c -> first >= 0 && c.startMs() > first && !c.outcome().equals("ok"))
        .count();
  }

  /**
   * Latency percentiles in milliseconds over successful calls matching {@code phase} (null: all).
   */
  static double[] percentilesMs(List<Call> calls, String phase, double... ps) {
    long[] l =
        calls.stream()
            .filter(c -> phase == null || c.phase().equals(phase))
            .filter(c -> c.outcome().equals("ok"))
            .mapToLong(Call::latencyMicros)
            .sorted()
            .toArray();
    double[] out = new double[ps.length];
    if (l.length == 0) {
      Arrays.fill(out, Double.NaN);
      return out;
    }
    for (int i = 0; i < ps.length; i++) {
      int idx = (int) Math.min(l.length - 1, Math.ceil(ps[i] / 100.0 * l.length) - 1);
      out[i] = l[Math.max(0, idx)] / 1000.0;
    }
    return out;
  }
}
