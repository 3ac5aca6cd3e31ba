package dev.cvmkms.kms.soak;

import java.util.ArrayList;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.function.ToIntFunction;

/** What a soak measured, and the pass criteria evaluated on it. */
public final class Result {
  /** Flatness tolerance after warm-up: JVMs add a few compiler/GC threads and pooled fds. */
  static final int THREAD_TOLERANCE = 8;

  static final int FD_TOLERANCE = 16;

  /**
   * The p99 bound in the fault phases. A GetMeta that waited on the provider would take the 2 s
   * webhook deadline; CI uses 500 ms (robust on a loaded 2-core machine), the 10-minute report run
   * of kms/bench/soak.sh holds 50 ms.
   */
  static final double P99_LIMIT_MS =
      Double.parseDouble(System.getProperty("soak.p99LimitMs", "50"));

  final FreezeSoak.Settings settings;
  final List<FreezeSoak.Phase> phases;
  final long totalMs;
  final SoakRecorder recorder;
  final List<SoakRecorder.Call> calls;
  List<Long> upstreamPerMinute = List.of();
  int coldStartInfoFetches;
  int coldStartFailedInfoCalls;
  int schedulingDelays;
  int kmsInfoFetchesTotal;
  int blockedWarnings;

  Result(
      FreezeSoak.Settings settings,
      List<FreezeSoak.Phase> phases,
      long totalMs,
      SoakRecorder recorder) {
    this.settings = settings;
    this.phases = phases;
    this.totalMs = totalMs;
    this.recorder = recorder;
    this.calls = recorder.calls();
  }

  /** The upstream bound the configuration sets: the auth-eth token bucket over one minute. */
  long upstreamPerMinuteBound() {
    return (long) settings.rpcRatePerSec() * 60 + settings.rpcBurst();
  }

  double[] latency(String phase) {
    return SoakRecorder.percentilesMs(calls, phase, 50, 99, 100);
  }

  /** Samples after the first 20% of the run (JIT, pools and caches warming up). */
  List<SoakRecorder.Sample> steadySamples() {
    return recorder.samples().stream().filter(s -> s.atMs() >= totalMs / 5).toList();
  }

  IntSummaryStatistics stat(ToIntFunction<SoakRecorder.Sample> f) {
    return steadySamples().stream().mapToInt(f).summaryStatistics();
  }

  /** Every pass criterion that failed, as a sentence; empty when the soak passed. */
  public List<String> violations() {
    List<String> v = new ArrayList<>();
    if (calls.stream().noneMatch(c -> c.outcome().equals("ok"))) {
      v.add("no GetMeta call ever succeeded");
    }
    long failed = recorder.failuresAfterFirstSuccess();
    if (failed > 0) {
      v.add(failed + " GetMeta calls failed after the first success: " + recorder.outcomes());
    }
    for (String phase : FreezeSoak.FAULT_PHASES) {
      double p99 = latency(phase)[1];
      if (!(p99 <= P99_LIMIT_MS)) {
        v.add("p99 during '" + phase + "' was " + p99 + " ms (limit " + P99_LIMIT_MS + ")");
      }
    }
    flat(v, "KMS threads", stat(SoakRecorder.Sample::kmsThreads), THREAD_TOLERANCE);
    flat(v, "KMS fds", stat(SoakRecorder.Sample::kmsFds), FD_TOLERANCE);
    flat(v, "auth-eth threads", stat(SoakRecorder.Sample::authThreads), THREAD_TOLERANCE);
    flat(v, "auth-eth fds", stat(SoakRecorder.Sample::authFds), FD_TOLERANCE);
    if (blockedWarnings > 0) {
      v.add(blockedWarnings + " blocked-thread warnings in the KMS or auth-eth logs");
    }
    long maxPerMinute = upstreamPerMinute.stream().mapToLong(Long::longValue).max().orElse(0);
    if (maxPerMinute > upstreamPerMinuteBound()) {
      v.add(
          "upstream calls per minute "
              + upstreamPerMinute
              + " exceed the configured bound "
              + upstreamPerMinuteBound());
    }
    // Concurrent reads share one load; only a failed load (no value to serve) lets a later read
    // start another. Scheduled refreshes are not the burst's doing and are not counted.
    if (coldStartInfoFetches > 1 + coldStartFailedInfoCalls) {
      v.add(
          "30 rapid-fire GetMeta after a cold start caused "
              + coldStartInfoFetches
              + " metadata fetches (start-up and read-caused loads; scheduled refreshes excluded)"
              + " with only "
              + coldStartFailedInfoCalls
              + " failed ones before them");
    }
    return v;
  }

  private static void flat(List<String> v, String what, IntSummaryStatistics s, int tolerance) {
    if (s.getCount() == 0 || s.getMin() < 0) {
      v.add(what + " could not be sampled");
    } else if (s.getMax() - s.getMin() > tolerance) {
      v.add(
          what + " not flat: " + s.getMin() + ".." + s.getMax() + " (tolerance " + tolerance + ")");
    }
  }

  String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append("GetMeta calls: ")
        .append(calls.size())
        .append(' ')
        .append(recorder.outcomes())
        .append('\n');
    for (FreezeSoak.Phase p : phases) {
      double[] l = latency(p.name());
      sb.append(
          String.format(
              "  %-18s p50 %.2f ms  p99 %.2f ms  max %.2f ms%n", p.name(), l[0], l[1], l[2]));
    }
    sb.append("upstream calls/min: ")
        .append(upstreamPerMinute)
        .append(" (bound ")
        .append(upstreamPerMinuteBound())
        .append(")\n");
    sb.append("blocked-thread warnings that were scheduling delay, not blocking (not counted): ")
        .append(schedulingDelays)
        .append('\n');
    sb.append("cold-start metadata fetches for 30 GetMeta: ")
        .append(coldStartInfoFetches)
        .append('\n');
    sb.append("violations: ").append(violations().isEmpty() ? "none" : violations()).append('\n');
    return sb.toString();
  }
}
