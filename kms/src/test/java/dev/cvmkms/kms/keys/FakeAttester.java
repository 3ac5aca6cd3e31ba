package dev.cvmkms.kms.keys;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Records each report data it is asked to attest and answers with distinct bytes: {@code 0xFA}, a
 * 4-byte call counter, then the report data (so every answer is fresh and bound to its input).
 */
public final class FakeAttester implements KeyAttester {
  private final List<byte[]> requests = new ArrayList<>();

  @Override
  public synchronized byte[] attest(byte[] reportData64) {
    if (reportData64.length != 64) {
      throw new IllegalArgumentException("report data must be 64 bytes");
    }
    requests.add(reportData64.clone());
    return ByteBuffer.allocate(5 + 64)
        .put((byte) 0xFA)
        .putInt(requests.size())
        .put(reportData64)
        .array();
  }

  public synchronized List<byte[]> requests() {
    return List.copyOf(requests);
  }

  /** What the n-th call (1-based) answered. */
  public static byte[] answer(int call, byte[] reportData64) {
    return ByteBuffer.allocate(5 + 64).put((byte) 0xFA).putInt(call).put(reportData64).array();
  }
}
