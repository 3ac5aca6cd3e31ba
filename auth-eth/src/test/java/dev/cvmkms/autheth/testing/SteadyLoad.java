package dev.cvmkms.autheth.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocket;

/**
 * A closed-loop HTTP/1.1 load of keep-alive clients on raw sockets (no client library that would
 * retry behind our back), classifying every request by what the client saw:
 *
 * <ul>
 *   <li>answered: a complete response (status, headers, the whole body);
 *   <li>refused: the connection (TCP, or its TLS handshake) never came up — never accepted;
 *   <li>closed before a response: the connection was up, the request written, and it closed with
 *       not one response byte — the server had not taken the request (checked against the server's
 *       own count of requests it served);
 *   <li>broken: anything else (a partial response, a reset mid-response) — a request cut.
 * </ul>
 *
 * A response with {@code Connection: close} makes the client close and reconnect, as RFC 9112 says.
 * Workers stop after their first refused connection.
 */
public final class SteadyLoad implements AutoCloseable {
  public enum Outcome {
    ANSWERED,
    REFUSED,
    CLOSED_BEFORE_RESPONSE,
    BROKEN
  }

  private final SocketFactory sockets;
  private final String host;
  private final int port;
  private final String request;
  private final List<Thread> workers = new ArrayList<>();
  private final ConcurrentHashMap<Outcome, AtomicLong> counts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLong> statuses = new ConcurrentHashMap<>();
  private final List<String> broken = java.util.Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong firstRefusedNanos = new AtomicLong();
  private volatile boolean stop;

  public SteadyLoad(SocketFactory sockets, String host, int port, String method, String path) {
    this.sockets = sockets;
    this.host = host;
    this.port = port;
    this.request =
        method
            + " "
            + path
            + " HTTP/1.1\r\nHost: "
            + host
            + "\r\n"
            + (method.equals("POST") ? "Content-Length: 0\r\n" : "")
            + "\r\n";
    for (Outcome o : Outcome.values()) counts.put(o, new AtomicLong());
  }

  public SteadyLoad start(int clients) {
    for (int i = 0; i < clients; i++) {
      Thread t = new Thread(this::loop, "steady-load-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
    return this;
  }

  private void loop() {
    Socket socket = null;
    while (!stop) {
      try {
        if (socket == null) {
          try {
            socket = connect();
          } catch (IOException e) {
            count(Outcome.REFUSED);
            firstRefusedNanos.compareAndSet(0, System.nanoTime());
            return;
          }
        }
        Result r = exchange(socket);
        count(r.outcome);
        if (r.outcome != Outcome.ANSWERED || r.close) {
          socket.close();
          socket = null;
        }
      } catch (IOException e) {
        // close() failed: start over on a new connection
        socket = null;
      }
    }
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // done
      }
    }
  }

  private Socket connect() throws IOException {
    Socket s = sockets.createSocket(host, port);
    s.setSoTimeout(60_000);
    if (s instanceof SSLSocket ssl) {
      ssl.startHandshake(); // the TLS handshake needs the server to have accepted the connection
    }
    return s;
  }

  private record Result(Outcome outcome, boolean close) {}

  private Result exchange(Socket s) {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int received = 0;
    try {
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      // Head, up to the blank line.
      int b;
      int state = 0;
      while (state < 4) {
        b = in.read();
        if (b < 0) {
          return received == 0
              ? new Result(Outcome.CLOSED_BEFORE_RESPONSE, true)
              : brokenResult("EOF in the response head after " + received + " bytes");
        }
        received++;
        head.write(b);
        state =
            switch (state) {
              case 0, 2 -> b == '\r' ? state + 1 : 0;
              case 1, 3 -> b == '\n' ? state + 1 : (b == '\r' ? 1 : 0);
              default -> 0;
            };
      }
      String text = head.toString(StandardCharsets.ISO_8859_1);
      String[] lines = text.split("\r\n", -1); // the trailing empty lines match no header
      String status = lines[0].split(" ", 3)[1]; // HTTP/1.1 SP status SP reason
      long length = -1;
      boolean close = false;
      for (String line : lines) {
        String l = line.toLowerCase(Locale.ROOT);
        if (l.startsWith("content-length:")) length = Long.parseLong(l.substring(15).trim());
        if (l.startsWith("connection:") && l.contains("close")) close = true;
      }
      if (length < 0) {
        return brokenResult("no content-length in " + lines[0]);
      }
      for (long i = 0; i < length; i++) {
        if (in.read() < 0) {
          return brokenResult("EOF after " + i + " of " + length + " body bytes");
        }
      }
      statuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
      return new Result(Outcome.ANSWERED, close);
    } catch (IOException e) {
      return received == 0
          ? new Result(Outcome.CLOSED_BEFORE_RESPONSE, true)
          : brokenResult(e + " after " + received + " response bytes");
    }
  }

  private Result brokenResult(String why) {
    broken.add(why);
    return new Result(Outcome.BROKEN, true);
  }

  private void count(Outcome o) {
    counts.get(o).incrementAndGet();
  }

  public long answered() {
    return counts.get(Outcome.ANSWERED).get();
  }

  public java.util.Map<Outcome, Long> counts() {
    java.util.Map<Outcome, Long> m = new java.util.EnumMap<>(Outcome.class);
    counts.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  public java.util.Map<String, Long> statuses() {
    java.util.Map<String, Long> m = new java.util.TreeMap<>();
    statuses.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  public List<String> broken() {
    return List.copyOf(broken);
  }

  /** {@link System#nanoTime()} of the first refused connection, 0 if none yet. */
  public long firstRefusedNanos() {
    return firstRefusedNanos.get();
  }

  /** Waits (bounded) until every worker saw a refused connection and stopped. */
  public boolean awaitAllStopped(long millis) throws InterruptedException {
    long end = System.nanoTime() + millis * 1_000_000;
    for (Thread t : workers) {
      long left = (end - System.nanoTime()) / 1_000_000;
      if (left <= 0) return false;
      t.join(left);
      if (t.isAlive()) return false;
    }
    return true;
  }

  /** One request on a fresh connection (probes); its outcome is not counted with the load. */
  public static Probe probe(SocketFactory sockets, String host, int port, String path) {
    SteadyLoad one = new SteadyLoad(sockets, host, port, "GET", path);
    try (Socket s = one.connect()) {
      Result r = one.exchange(s);
      String status = one.statuses().keySet().stream().findFirst().orElse("");
      return new Probe(r.outcome, status);
    } catch (ConnectException e) {
      return new Probe(Outcome.REFUSED, "");
    } catch (IOException e) {
      return new Probe(Outcome.REFUSED, "");
    }
  }

  public record Probe(Outcome outcome, String status) {}

  @Override
  public void close() {
    stop = true;
    try {
      for (Thread t : workers) t.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the workers are daemons and stop on their own
    }
  }
}
