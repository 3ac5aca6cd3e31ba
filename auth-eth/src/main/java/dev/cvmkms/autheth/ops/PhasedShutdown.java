package dev.cvmkms.autheth.ops;

import dev.cvmkms.autheth.config.ShutdownBudgets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The phased shutdown (the same phases, rules and final line as the KMS's), in the order that loses
 * nothing (an earlier order — close clients, then drain — once dropped in-flight requests):
 *
 * <ol>
 *   <li>readiness answers 503 at once, then the pre-drain wait while requests are still served, so
 *       load balancers stop sending new work before anything is refused;
 *   <li>the listener stops accepting, in-flight requests finish within the HTTP drain budget, what
 *       is left is closed, and the phase waits until it is closed;
 *   <li>background work (cache refreshers, outbound clients, the audit log flush), all started at
 *       once under <b>one</b> shared budget;
 *   <li>cleanup (closing Vert.x) within the fixed {@link ShutdownBudgets#CLEANUP_MARGIN};
 * </ol>
 *
 * then one final line: {@code shutdown complete} or {@code shutdown complete with warning: …}
 * naming each step that overran or failed. Runs on a plain thread and blocks: once Vert.x is
 * closed, a completion scheduled on one of its event loops would never run.
 */
public final class PhasedShutdown {
  private static final Logger LOG = LoggerFactory.getLogger(PhasedShutdown.class);

  /** A named piece of shutdown work; its stage fails (with a reason) when it did not go cleanly. */
  public record Task(String name, Supplier<CompletionStage<?>> start) {
    public Task {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(start, "start");
    }
  }

  /** The pre-drain wait; tests replace it to record the phase instead of waiting. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  /** What happened: the steps that overran or failed, and the final log line. */
  public record Outcome(List<String> warnings, String finalLine) {
    public Outcome {
      warnings = List.copyOf(warnings);
    }

    public boolean clean() {
      return warnings.isEmpty();
    }
  }

  private final ShutdownBudgets budgets;
  private final Runnable notReady;
  private final Function<Duration, CompletionStage<?>> httpDrain;
  private final List<Task> background;
  private final List<Task> cleanup;
  private final Sleeper sleeper;
  private final LongSupplier nanoTime;

  /**
   * @param notReady flips readiness to 503 (and tells the listener to close connections after their
   *     responses); must be instant
   * @param httpDrain stops accepting and drains for at most the given budget, completing once the
   *     connections are closed; fails naming what was cut
   * @param background started together after the HTTP drain, sharing one budget
   * @param cleanup started together after the background phase, within the cleanup margin
   */
  public PhasedShutdown(
      ShutdownBudgets budgets,
      Runnable notReady,
      Function<Duration, CompletionStage<?>> httpDrain,
      List<Task> background,
      List<Task> cleanup,
      Sleeper sleeper,
      LongSupplier nanoTime) {
    this.budgets = Objects.requireNonNull(budgets, "budgets");
    this.notReady = Objects.requireNonNull(notReady, "notReady");
    this.httpDrain = Objects.requireNonNull(httpDrain, "httpDrain");
    this.background = List.copyOf(background);
    this.cleanup = List.copyOf(cleanup);
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  public PhasedShutdown(
      ShutdownBudgets budgets,
      Runnable notReady,
      Function<Duration, CompletionStage<?>> httpDrain,
      List<Task> background,
      List<Task> cleanup) {
    this(
        budgets,
        notReady,
        httpDrain,
        background,
        cleanup,
        d -> Thread.sleep(d.toMillis()),
        System::nanoTime);
  }

  /** Runs every phase, in order, and returns once the last one ended (or its budget ran out). */
  public Outcome run() {
    long t0 = nanoTime.getAsLong();
    List<String> warnings = new ArrayList<>();

    // 1. Not ready, at once; then give load balancers time to notice.
    notReady.run();
    LOG.info(
        "shutdown: readiness is 503; pre-drain {}, http drain {}, background {}, grace period {}",
        ms(budgets.preDrain()),
        ms(budgets.httpDrain()),
        ms(budgets.backgroundDrain()),
        ms(budgets.gracePeriod()));
    try {
      if (!budgets.preDrain().isZero()) {
        sleeper.sleep(budgets.preDrain());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      warnings.add("pre-drain interrupted");
    }

    // 2. Stop accepting and drain. The listener closes what is left at the budget; up to half the
    // cleanup margin more is only for that close to be reported, so a hung close cannot stall us.
    LOG.info("shutdown: listener stopped accepting; draining in-flight requests");
    Task http = new Task("http drain", () -> httpDrain.apply(budgets.httpDrain()));
    awaitAll(
        List.of(http),
        budgets.httpDrain().plus(ShutdownBudgets.CLEANUP_MARGIN.dividedBy(2)),
        budgets.httpDrain(),
        warnings);

    // 3. Background work: one budget for all of it, not one per step.
    if (!background.isEmpty()) {
      LOG.info("shutdown: stopping background work");
      awaitAll(background, budgets.backgroundDrain(), budgets.backgroundDrain(), warnings);
    }

    // 4. Cleanup within what is left of the fixed margin: the whole run never exceeds pre + http +
    // background + margin, which start-up checked against the grace period.
    long end =
        t0
            + budgets
                .preDrain()
                .plus(budgets.httpDrain())
                .plus(budgets.backgroundDrain())
                .plus(ShutdownBudgets.CLEANUP_MARGIN)
                .toNanos();
    Duration left = Duration.ofNanos(Math.max(0, end - nanoTime.getAsLong()));
    awaitAll(cleanup, left, ShutdownBudgets.CLEANUP_MARGIN, warnings);

    long ms = (nanoTime.getAsLong() - t0) / 1_000_000;
    // The duration on its own line: the final line is exactly the documented text, which
    // operators and the image tests match.
    LOG.info("shutdown phases took {} ms", ms);
    String line =
        warnings.isEmpty()
            ? "shutdown complete"
            : "shutdown complete with warning: " + String.join("; ", warnings);
    if (warnings.isEmpty()) {
      LOG.info(line);
    } else {
      LOG.warn(line);
    }
    return new Outcome(warnings, line);
  }

  /** Starts every task now and waits for all of them until one shared deadline. */
  private void awaitAll(List<Task> tasks, Duration wait, Duration budget, List<String> warnings) {
    long deadline = nanoTime.getAsLong() + wait.toNanos();
    List<CompletableFuture<?>> started = new ArrayList<>();
    for (Task t : tasks) {
      CompletableFuture<?> f;
      try {
        f = t.start().get().toCompletableFuture();
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      started.add(f);
    }
    for (int i = 0; i < tasks.size(); i++) {
      String name = tasks.get(i).name();
      long left = Math.max(0, deadline - nanoTime.getAsLong());
      try {
        started.get(i).get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        warnings.add(name + " overran its budget of " + ms(budget));
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        warnings.add(name + ": " + describe(cause));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        warnings.add(name + " interrupted");
      }
    }
  }

  private static String ms(Duration d) {
    return d.toMillis() + " ms";
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
