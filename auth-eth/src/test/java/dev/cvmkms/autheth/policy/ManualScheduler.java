package dev.cvmkms.autheth.policy;

import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/** A scheduler driven by a fake clock: {@link #advance} runs what became due. */
final class ManualScheduler implements Scheduler {
  final AtomicLong nowMillis = new AtomicLong();
  private final TreeMap<Long, Runnable> tasks = new TreeMap<>();
  private final TreeMap<Long, Long> dueAt = new TreeMap<>();
  private long nextId;

  @Override
  public synchronized long schedule(long delayMillis, Runnable task) {
    long id = nextId++;
    tasks.put(id, task);
    dueAt.put(id, nowMillis.get() + delayMillis);
    return id;
  }

  @Override
  public synchronized void cancel(long id) {
    tasks.remove(id);
    dueAt.remove(id);
  }

  long nanos() {
    return nowMillis.get() * 1_000_000;
  }

  int pending() {
    return tasks.size();
  }

  void advance(long millis) {
    long target = nowMillis.get() + millis;
    while (true) {
      Runnable r = null;
      synchronized (this) {
        for (var e : dueAt.entrySet()) {
          if (e.getValue() <= target) {
            nowMillis.set(Math.max(nowMillis.get(), e.getValue()));
            r = tasks.remove(e.getKey());
            dueAt.remove(e.getKey());
            break;
          }
        }
      }
      if (r == null) {
        break;
      }
      r.run();
    }
    nowMillis.set(target);
  }
}
