package dev.cvmkms.autheth.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Vert.x blocked-thread warnings, judged by cause rather than by the wall-clock figure alone. The
 * checker measures elapsed time, so on a starved 2-core machine an event loop doing ordinary,
 * bounded work for the first time (linking hundreds of Netty, Vert.x and JCA classes, building the
 * first TLS context) can pass the limit while it waits for a CPU, not on anything. A warning is a
 * real block when its stack shows a blocking wait (locks, sleeps, futures, socket or file I/O,
 * blocking DNS, process waits) or our own crypto and attestation code, which belongs on the worker
 * pool; also when it has no stack, since then its cause cannot be seen. A stack inside class
 * loading or linking, or in framework code with neither, is scheduling delay and is reported but
 * not failed.
 */
public final class BlockedThreadWarnings {
  private static final String MARK = "has been blocked";
  private static final int TOP_FRAMES = 40;
  private static final List<String> CLASS_LOADING =
      List.of(
          "java.lang.ClassLoader.defineClass",
          "java.lang.System$1.defineClass",
          "java.lang.ClassLoader.loadClass",
          "java.lang.Class.forName0",
          "jdk.internal.loader.",
          "java.lang.invoke.MethodHandleNatives.link",
          "java.lang.invoke.InnerClassLambdaMetafactory",
          "java.lang.invoke.LambdaMetafactory",
          ".<clinit>(");
  private static final List<String> BLOCKING =
      List.of(
          "java.lang.Object.wait",
          "jdk.internal.misc.Unsafe.park",
          "java.util.concurrent.locks.LockSupport.park",
          "java.lang.Thread.sleep",
          "java.util.concurrent.CompletableFuture.get",
          "java.util.concurrent.CompletableFuture.join",
          "java.util.concurrent.FutureTask.get",
          "java.util.concurrent.CountDownLatch.await",
          "sun.nio.ch.SocketDispatcher.read",
          "sun.nio.ch.NioSocketImpl.",
          "sun.nio.ch.FileDispatcherImpl.",
          "sun.nio.ch.FileChannelImpl.force",
          "java.io.FileInputStream.read",
          "java.io.FileOutputStream.write",
          "java.io.RandomAccessFile.",
          "java.net.http.HttpClient.send",
          "jdk.internal.net.http.HttpClientImpl.send",
          "java.net.Inet6AddressImpl.lookupAllHostAddr",
          "java.net.Inet4AddressImpl.lookupAllHostAddr",
          "java.lang.ProcessImpl.waitFor",
          "java.lang.ProcessHandleImpl.waitForProcessExit");
  private static final List<String> WORKER_ONLY_CODE =
      List.of("dev.cvmkms.kms.keys.", "dev.cvmkms.kms.attestation.");

  private BlockedThreadWarnings() {}

  /** One warning: its message line and the stack frames logged under it (maybe none). */
  public record Warning(String message, List<String> frames) {
    /** True when the stack shows bounded work that waited for a CPU, not a blocking call. */
    public boolean isSchedulingDelay() {
      return BlockedThreadWarnings.isSchedulingDelay(frames);
    }

    @Override
    public String toString() {
      return message + (frames.isEmpty() ? " (no stack)" : "\n\t" + String.join("\n\t", frames));
    }
  }

  /** Every blocked-thread warning in a process's log text, with its stack when one was logged. */
  public static List<Warning> parse(String log) {
    List<Warning> out = new ArrayList<>();
    String[] lines = log.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (!lines[i].contains(MARK)) {
        continue;
      }
      List<String> frames = new ArrayList<>();
      int j = i + 1;
      if (j < lines.length && lines[j].contains("VertxException")) {
        j++;
      }
      while (j < lines.length && lines[j].startsWith("\tat ")) {
        frames.add(lines[j].substring(4).trim());
        j++;
      }
      out.add(new Warning(lines[i].trim(), frames));
      i = j - 1;
    }
    return out;
  }

  /** The warnings in a log that are real blocks (not one-time class loading). */
  public static List<Warning> blocking(String log) {
    return parse(log).stream().filter(w -> !w.isSchedulingDelay()).toList();
  }

  /** The same test for a checker warning captured in-process (a logback event). */
  public static boolean isSchedulingDelay(ILoggingEvent e) {
    if (e.getThrowableProxy() == null) {
      return false;
    }
    return isSchedulingDelay(
        Arrays.stream(e.getThrowableProxy().getStackTraceElementProxyArray())
            .map(f -> f.getStackTraceElement().toString())
            .toList());
  }

  /**
   * The same judgement for frames taken from a stack trace, top first ({@code Class.method(...)}):
   * true when they show scheduling delay in bounded work, false for a real block.
   */
  public static boolean isSchedulingDelay(List<String> frames) {
    if (frames.isEmpty()) {
      return false;
    }
    boolean loading = false;
    boolean blocking = false;
    boolean workerCode = false;
    for (String f : frames.subList(0, Math.min(TOP_FRAMES, frames.size()))) {
      loading |= CLASS_LOADING.stream().anyMatch(f::contains);
      blocking |= BLOCKING.stream().anyMatch(f::contains);
      workerCode |= WORKER_ONLY_CODE.stream().anyMatch(f::contains);
    }
    // Class loading reads jar files, so its I/O frames do not count against it.
    return loading || !(blocking || workerCode);
  }
}
