package dev.cvmkms.kms.attestation;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Small byte helpers shared by the attestation code (hex, digests, constant-time compare). */
public final class Bytes {
  private static final HexFormat HEX = HexFormat.of();

  private Bytes() {}

  public static String hex(byte[] b) {
    return HEX.formatHex(b);
  }

  public static String hex(byte[] b, int off, int len) {
    return HEX.formatHex(b, off, off + len);
  }

  /** Decodes hex in either case; throws {@link AttestationException} (MALFORMED) if invalid. */
  public static byte[] unhex(String s, String what) {
    if (s == null) {
      throw AttestationException.malformed(what + ": missing");
    }
    String t = s.trim();
    if (t.startsWith("0x") || t.startsWith("0X")) {
      t = t.substring(2);
    }
    try {
      return HEX.parseHex(t);
    } catch (IllegalArgumentException e) {
      throw AttestationException.malformed(what + ": not hex");
    }
  }

  public static byte[] sha256(byte[]... parts) {
    return digest("SHA-256", parts);
  }

  public static byte[] sha384(byte[]... parts) {
    return digest("SHA-384", parts);
  }

  public static byte[] sha512(byte[]... parts) {
    return digest("SHA-512", parts);
  }

  private static byte[] digest(String alg, byte[]... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance(alg);
      for (byte[] p : parts) {
        md.update(p);
      }
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(alg + " missing from the JDK", e);
    }
  }

  public static boolean isZero(byte[] b) {
    int acc = 0;
    for (byte x : b) {
      acc |= x;
    }
    return acc == 0;
  }

  public static boolean equal(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  public static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }
}
