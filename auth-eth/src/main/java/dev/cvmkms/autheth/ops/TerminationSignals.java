package dev.cvmkms.autheth.ops;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the phased shutdown on SIGTERM and SIGINT and then exits with code 0.
 *
 * <p>Why a signal handler and not a shutdown hook: a JVM ended by a signal through its shutdown
 * hooks exits with 128 + the signal number (143 for SIGTERM) whatever the hooks do, so an
 * orchestrator would report every clean stop as a failure. Calling {@code Runtime.halt(0)} at the
 * end of a hook would fix the code but would also turn <em>every</em> {@code System.exit(n)} (a
 * failed start, say) into 0 and skip the other hooks. Handling the two signals ourselves ({@code
 * sun.misc.Signal}, in the {@code jdk.unsupported} module that every JDK and jlink image with Netty
 * has) replaces only the default action of those signals: the shutdown runs on its own thread and
 * ends with {@code System.exit(0)}, which still runs the remaining hooks. If the handlers cannot be
 * installed (e.g. {@code -Xrs}), a shutdown hook runs the same phases; only the exit code is then
 * the JVM's.
 */
public final class TerminationSignals {
  private static final Logger LOG = LoggerFactory.getLogger(TerminationSignals.class);

  private TerminationSignals() {}

  /** Installs the handlers; {@code shutdown} runs once, however many signals arrive. */
  public static void install(String threadName, Runnable shutdown) {
    AtomicBoolean started = new AtomicBoolean();
    Runnable once =
        () -> {
          if (!started.compareAndSet(false, true)) {
            LOG.info("shutdown already in progress");
            return;
          }
          Thread t =
              new Thread(
                  () -> {
                    try {
                      shutdown.run();
                    } catch (RuntimeException | Error e) {
                      LOG.error("shutdown failed", e);
                    } finally {
                      System.exit(0);
                    }
                  },
                  threadName);
          t.start();
        };
    try {
      for (String name : new String[] {"TERM", "INT"}) {
        handle(name, once);
      }
    } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
      LOG.warn(
          "cannot handle SIGTERM/SIGINT ({}); shutting down from a shutdown hook instead (exit"
              + " code 143)",
          e.toString());
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    if (started.compareAndSet(false, true)) {
                      shutdown.run();
                    }
                  },
                  threadName));
    }
  }

  /**
   * {@code sun.misc.Signal.handle(new Signal(name), s -> action.run())}, reached by reflection:
   * javac warns about every compile-time use of {@code sun.misc} (with {@code --release}, nothing
   * can silence it) and {@code -Werror} would make that fatal. Throws what {@code Signal} throws
   * (an unknown or reserved signal: {@link IllegalArgumentException}); a JDK without {@code
   * jdk.unsupported}: {@link UnsupportedOperationException}.
   */
  private static void handle(String name, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object h =
          Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (proxy, method, args) ->
                  switch (method.getName()) {
                    case "handle" -> {
                      action.run();
                      yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> args != null && proxy == args[0];
                    default -> "TerminationSignals handler for SIG" + name;
                  });
      signal
          .getMethod("handle", signal, handler)
          .invoke(null, signal.getConstructor(String.class).newInstance(name), h);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new UnsupportedOperationException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new UnsupportedOperationException("no sun.misc.Signal", e);
    }
  }
}
