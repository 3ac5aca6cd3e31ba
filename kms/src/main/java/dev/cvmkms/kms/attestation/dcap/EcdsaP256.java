package dev.cvmkms.kms.attestation.dcap;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/** ECDSA P-256/SHA-256 with Intel's encodings: raw X‖Y keys and raw r‖s signatures. */
public final class EcdsaP256 {
  public static final ECParameterSpec PARAMS = params();

  private EcdsaP256() {}

  private static ECParameterSpec params() {
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(new ECGenParameterSpec("secp256r1"));
      return p.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("secp256r1 unavailable", e);
    }
  }

  /** A public key from 64 bytes X‖Y (no 0x04 prefix); null if it is not a valid encoding. */
  public static @Nullable PublicKey publicKey(byte[] xy) {
    if (xy.length != 64) {
      return null;
    }
    try {
      ECPoint w =
          new ECPoint(
              new BigInteger(1, Arrays.copyOfRange(xy, 0, 32)),
              new BigInteger(1, Arrays.copyOfRange(xy, 32, 64)));
      return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, PARAMS));
    } catch (GeneralSecurityException | RuntimeException e) {
      return null;
    }
  }

  /** Verifies a raw r‖s signature; any error (bad key, bad encoding) is "false". */
  public static boolean verify(PublicKey key, byte[] data, byte[] rs) {
    if (key == null || rs == null || rs.length != 64) {
      return false;
    }
    try {
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initVerify(key);
      s.update(data);
      return s.verify(rs);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }
}
