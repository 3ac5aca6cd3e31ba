package dev.cvmkms.kms.attestation.mock;

import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.dcap.EcdsaP256;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.operator.ContentSigner;

/**
 * Deterministic P-256 keys for the mock PKI, derived like dstack's mock attestation so that both
 * sides can rebuild the same roots from a seed: {@code SHA-256("dstack-mock-p256-v1" ‖ seed ‖ label
 * ‖ u32be(counter))}, retried until it is a valid scalar. Signatures are RFC 6979 deterministic, so
 * a seed yields byte-identical certificates, CRLs and quotes.
 */
final class MockKeys {
  private static final ECDomainParameters DOMAIN;

  static {
    var x9 = CustomNamedCurves.getByName("secp256r1");
    DOMAIN = new ECDomainParameters(x9.getCurve(), x9.getG(), x9.getN(), x9.getH());
  }

  /** One key pair; {@code toString} never shows the scalar. */
  static final class Key {
    private final BigInteger d;
    final byte[] publicXy;
    final PublicKey publicKey;

    private Key(BigInteger d) {
      this.d = d;
      ECPoint q = DOMAIN.getG().multiply(d).normalize();
      this.publicXy =
          Bytes.concat(
              fixed(q.getAffineXCoord().toBigInteger()), fixed(q.getAffineYCoord().toBigInteger()));
      this.publicKey =
          Objects.requireNonNull(EcdsaP256.publicKey(publicXy), "a P-256 point by construction");
    }

    /** Raw r‖s signature over SHA-256(data). */
    byte[] signRaw(byte[] data) {
      BigInteger[] rs = sign(data);
      return Bytes.concat(fixed(rs[0]), fixed(rs[1]));
    }

    byte[] signDer(byte[] data) {
      BigInteger[] rs = sign(data);
      ASN1EncodableVector v = new ASN1EncodableVector();
      v.add(new ASN1Integer(rs[0]));
      v.add(new ASN1Integer(rs[1]));
      try {
        return new DERSequence(v).getEncoded();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    private BigInteger[] sign(byte[] data) {
      SHA256Digest h = new SHA256Digest();
      h.update(data, 0, data.length);
      byte[] hash = new byte[32];
      h.doFinal(hash, 0);
      ECDSASigner s = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
      s.init(true, new ECPrivateKeyParameters(d, DOMAIN));
      return s.generateSignature(hash);
    }

    /** A BouncyCastle signer (ecdsa-with-SHA256, DER) for certificates and CRLs. */
    ContentSigner contentSigner() {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      return new ContentSigner() {
        @Override
        public AlgorithmIdentifier getAlgorithmIdentifier() {
          return new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256);
        }

        @Override
        public OutputStream getOutputStream() {
          return buf;
        }

        @Override
        public byte[] getSignature() {
          byte[] sig = signDer(buf.toByteArray());
          buf.reset();
          return sig;
        }
      };
    }

    @Override
    public String toString() {
      return "MockKey[" + Bytes.hex(publicXy, 0, 8) + "…]";
    }
  }

  private MockKeys() {}

  static Key derive(byte[] seed, String label) {
    BigInteger n = DOMAIN.getN();
    for (int counter = 0; counter < 1000; counter++) {
      byte[] h =
          Bytes.sha256(
              "dstack-mock-p256-v1".getBytes(StandardCharsets.UTF_8),
              seed,
              label.getBytes(StandardCharsets.UTF_8),
              ByteBuffer.allocate(4).putInt(counter).array());
      BigInteger d = new BigInteger(1, h);
      if (d.signum() > 0 && d.compareTo(n) < 0) {
        return new Key(d);
      }
    }
    throw new IllegalStateException("no valid scalar for " + label);
  }

  static byte[] fixed(BigInteger v) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[32];
    int len = Math.min(b.length, 32);
    System.arraycopy(b, b.length - len, out, 32 - len, len);
    return out;
  }
}
