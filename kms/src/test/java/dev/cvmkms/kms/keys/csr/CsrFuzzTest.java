package dev.cvmkms.kms.keys.csr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.security.KeyPair;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing with a fixed seed and a bounded count: every mutated CSR must either decode (and
 * then verify or fail verification cleanly) or be rejected with a {@link CsrException}; nothing
 * else may escape, and nothing may take long.
 */
class CsrFuzzTest {
  private static final long SEED = 0x5ca1e_c5aL;
  private static final int ROUNDS = 3000;

  @Test
  void mutatedCsrs_areCleanlyRejectedOrValid() {
    KeyPair key = TestCsrs.p256();
    List<byte[]> seeds =
        List.of(
            ScaleCsr.encode(TestCsrs.v2(key, TestCsrs.minimalV0Attestation())),
            ScaleCsr.encode(TestCsrs.v2(key, Arrays.copyOf(TestCsrs.guestAgentAttestation(), 300))),
            ScaleCsr.encode(TestCsrs.v1(key)),
            TestCsrs.vector("csr_v2_a"),
            TestCsrs.vector("csr_v2_b"));
    Random random = new Random(SEED);
    int decoded = 0;
    int rejected = 0;
    int verified = 0;
    long deadline = System.nanoTime() + 60_000_000_000L;

    for (int round = 0; round < ROUNDS && System.nanoTime() < deadline; round++) {
      byte[] seed = seeds.get(random.nextInt(seeds.size()));
      byte[] mutated = mutate(seed, random);
      byte[] signature = TestCsrs.sign(key, mutated);
      int apiVersion = random.nextInt(4);
      try {
        CertSigningRequest csr = ScaleCsr.decode(apiVersion, mutated);
        decoded++;
        // Re-encoding a decoded CSR gives a prefix of the input (all of it for V2).
        byte[] reencoded = ScaleCsr.encode(csr);
        assertThat(Arrays.copyOf(mutated, reencoded.length)).isEqualTo(reencoded);
        if (apiVersion == 2) {
          assertThat(reencoded).hasSameSizeAs(mutated);
        }
        // The signature covers exactly the mutated bytes, so a V2 CSR that kept its key and
        // confirm word must verify; anything else must fail cleanly.
        boolean mustVerify =
            apiVersion == 2
                && ScaleCsr.CONFIRM.equals(csr.confirm())
                && Arrays.equals(csr.pubkey(), key.getPublic().getEncoded());
        try {
          ScaleCsr.verify(csr, signature);
          verified++;
        } catch (CsrException e) {
          assertThat(mustVerify).as("round %d: %s", round, e.getMessage()).isFalse();
          assertThat(e.getMessage()).startsWith("Failed to verify csr signature: ");
        }
      } catch (CsrException e) {
        rejected++;
        assertThat(e.getMessage()).matches("(Failed to parse csr: |Unsupported API version: ).+");
      } catch (RuntimeException | Error e) {
        fail("round " + round + " escaped with " + e, e);
      }
    }
    assertThat(decoded).isPositive();
    assertThat(rejected).isPositive();
    assertThat(verified).isPositive();
  }

  private static byte[] mutate(byte[] seed, Random random) {
    byte[] out = seed.clone();
    int edits = 1 + random.nextInt(4);
    for (int i = 0; i < edits; i++) {
      out =
          switch (random.nextInt(6)) {
            case 0 -> flipBit(out, random);
            case 1 -> setByte(out, random, (byte) random.nextInt(256));
            case 2 -> setByte(out, random, (byte) 0xff); // big-integer compact prefixes
            case 3 -> Arrays.copyOf(out, out.length == 0 ? 0 : random.nextInt(out.length));
            case 4 -> insert(out, random);
            default -> delete(out, random);
          };
    }
    return out;
  }

  private static byte[] flipBit(byte[] in, Random random) {
    if (in.length == 0) {
      return in;
    }
    in[random.nextInt(in.length)] ^= (byte) (1 << random.nextInt(8));
    return in;
  }

  private static byte[] setByte(byte[] in, Random random, byte value) {
    if (in.length == 0) {
      return in;
    }
    in[random.nextInt(in.length)] = value;
    return in;
  }

  private static byte[] insert(byte[] in, Random random) {
    int at = random.nextInt(in.length + 1);
    byte[] extra = new byte[1 + random.nextInt(6)];
    random.nextBytes(extra);
    byte[] out = new byte[in.length + extra.length];
    System.arraycopy(in, 0, out, 0, at);
    System.arraycopy(extra, 0, out, at, extra.length);
    System.arraycopy(in, at, out, at + extra.length, in.length - at);
    return out;
  }

  private static byte[] delete(byte[] in, Random random) {
    if (in.length == 0) {
      return in;
    }
    int at = random.nextInt(in.length);
    int count = 1 + random.nextInt(Math.min(8, in.length - at));
    byte[] out = new byte[in.length - count];
    System.arraycopy(in, 0, out, 0, at);
    System.arraycopy(in, at + count, out, at, in.length - at - count);
    return out;
  }
}
