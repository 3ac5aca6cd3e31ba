package dev.cvmkms.kms.attestation.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** A guest agent on a Unix socket, answering from the mock (or misbehaving on request). */
final class FakeGuestAgent implements AutoCloseable {
  enum Mode {
    NORMAL,
    CHUNKED,
    SILENT,
    ERROR
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final ServerSocketChannel server;
  private final Thread thread;
  private final MockTdx mock;
  volatile Mode mode = Mode.NORMAL;

  FakeGuestAgent(Path socket, MockTdx mock) throws IOException {
    this.mock = mock;
    Files.deleteIfExists(socket);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    thread = new Thread(this::serve, "fake-guest-agent");
    thread.setDaemon(true);
    thread.start();
  }

  private void serve() {
    while (server.isOpen()) {
      try (SocketChannel c = server.accept()) {
        String req = readRequest(c);
        if (mode == Mode.SILENT) {
          Thread.sleep(30_000); // far past any client timeout; close() interrupts it
          continue;
        }
        respond(c, req);
      } catch (IOException | InterruptedException e) {
        if (!server.isOpen()) {
          return;
        }
      }
    }
  }

  private static String readRequest(SocketChannel c) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(4096);
    while (true) {
      String s = b.toString(StandardCharsets.UTF_8);
      int h = s.indexOf("\r\n\r\n");
      if (h >= 0) {
        int len = 0;
        for (String line : s.substring(0, h).split("\r\n", -1)) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            len = Integer.parseInt(line.substring(15).trim());
          }
        }
        if (b.size() >= h + 4 + len) {
          return s;
        }
      }
      buf.clear();
      if (c.read(buf) < 0) {
        return s;
      }
      b.write(buf.array(), 0, buf.position());
    }
  }

  private void respond(SocketChannel c, String req) throws IOException {
    String path = req.substring(req.indexOf(' ') + 1, req.indexOf(' ', req.indexOf(' ') + 1));
    String body = req.substring(req.indexOf("\r\n\r\n") + 4);
    byte[] rd = Bytes.unhex(JSON.readTree(body).get("report_data").asText(), "rd");
    String answer;
    int status = 200;
    if (mode == Mode.ERROR) {
      status = 500;
      answer = "{\"error\":\"quote failed\"}";
    } else if (path.equals("/GetQuote")) {
      VersionedAttestation a = mock.attestation(rd);
      var o = JSON.createObjectNode();
      o.put("quote", Bytes.hex(a.quote()));
      o.put("event_log", EventLogs.toJson(a.eventLog()));
      o.put("report_data", Bytes.hex(rd));
      o.put("vm_config", a.config());
      answer = o.toString();
    } else if (path.equals("/Attest")) {
      answer = "{\"attestation\":\"" + Bytes.hex(mock.versionedAttestation(rd)) + "\"}";
    } else {
      status = 404;
      answer = "{}";
    }
    byte[] payload = answer.getBytes(StandardCharsets.UTF_8);
    String head;
    byte[] out;
    if (mode == Mode.CHUNKED) {
      int half = payload.length / 2;
      String chunks =
          Integer.toHexString(half)
              + "\r\n"
              + new String(payload, 0, half, StandardCharsets.UTF_8)
              + "\r\n"
              + Integer.toHexString(payload.length - half)
              + "\r\n"
              + new String(payload, half, payload.length - half, StandardCharsets.UTF_8)
              + "\r\n0\r\n\r\n";
      head = "HTTP/1.1 " + status + " X\r\nTransfer-Encoding: chunked\r\n\r\n";
      out = (head + chunks).getBytes(StandardCharsets.UTF_8);
    } else {
      head = "HTTP/1.1 " + status + " X\r\nContent-Length: " + payload.length + "\r\n\r\n";
      out = Bytes.concat(head.getBytes(StandardCharsets.US_ASCII), payload);
    }
    ByteBuffer bb = ByteBuffer.wrap(out);
    while (bb.hasRemaining()) {
      c.write(bb);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
