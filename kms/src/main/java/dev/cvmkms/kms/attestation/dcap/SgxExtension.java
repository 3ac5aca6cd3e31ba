package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.jspecify.annotations.Nullable;

/**
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's PPID,
 * TCB (16 CPUSVN components and PCESVN), PCE-ID and FMSPC. {@code cpuSvn} is null when the
 * certificate does not carry the raw CPUSVN.
 */
@SuppressWarnings("ArrayRecordComponent") // parsed certificate extension; never compared or hashed
public record SgxExtension(
    byte[] ppid,
    int[] cpuSvnComponents,
    int pceSvn,
    byte @Nullable [] cpuSvn,
    byte[] pceId,
    byte[] fmspc) {

  public static final String OID = "1.2.840.113741.1.13.1";

  /** A copy whose arrays the caller may keep (the verifier shares one instance per platform). */
  public SgxExtension copy() {
    return new SgxExtension(
        ppid.clone(),
        cpuSvnComponents.clone(),
        pceSvn,
        cpuSvn == null ? null : cpuSvn.clone(),
        pceId.clone(),
        fmspc.clone());
  }

  public static SgxExtension of(X509Certificate pck) {
    byte[] ext = pck.getExtensionValue(OID);
    if (ext == null) {
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN, "PCK certificate has no SGX extension");
    }
    try {
      ASN1Sequence seq =
          ASN1Sequence.getInstance(
              ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(ext).getOctets()));
      byte[] ppid = null;
      byte[] pceId = null;
      byte[] fmspc = null;
      byte[] cpuSvn = null;
      int[] comps = new int[16];
      int pceSvn = -1;
      int seen = 0;
      for (ASN1Encodable e : seq) {
        ASN1Sequence kv = ASN1Sequence.getInstance(e);
        String oid = ASN1ObjectIdentifier.getInstance(kv.getObjectAt(0)).getId();
        ASN1Encodable v = kv.getObjectAt(1);
        switch (oid.substring(OID.length())) {
          case ".1" -> ppid = octets(v, 16, "PPID");
          case ".3" -> pceId = octets(v, 2, "PCE-ID");
          case ".4" -> fmspc = octets(v, 6, "FMSPC");
          case ".2" -> {
            for (ASN1Encodable t : ASN1Sequence.getInstance(v)) {
              ASN1Sequence tkv = ASN1Sequence.getInstance(t);
              String tOid = ASN1ObjectIdentifier.getInstance(tkv.getObjectAt(0)).getId();
              String suffix = tOid.substring((OID + ".2.").length());
              int idx = Integer.parseInt(suffix);
              ASN1Encodable tv = tkv.getObjectAt(1);
              if (idx >= 1 && idx <= 16) {
                comps[idx - 1] = smallInt(tv);
                seen |= 1 << (idx - 1);
              } else if (idx == 17) {
                pceSvn = smallInt(tv);
              } else if (idx == 18) {
                cpuSvn = octets(tv, 16, "CPUSVN");
              }
            }
          }
          default -> {
            // .5 SGX type, .6 platform instance id, .7 configuration: not used for TDX
          }
        }
      }
      if (ppid == null || pceId == null || fmspc == null || seen != 0xffff || pceSvn < 0) {
        throw new AttestationException(
            Reason.UNTRUSTED_CHAIN, "PCK SGX extension lacks PPID, TCB, PCE-ID or FMSPC");
      }
      return new SgxExtension(ppid, comps, pceSvn, cpuSvn, pceId, fmspc);
    } catch (AttestationException e) {
      throw e;
    } catch (RuntimeException | java.io.IOException e) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, "PCK SGX extension is malformed");
    }
  }

  private static byte[] octets(ASN1Encodable v, int len, String what) {
    byte[] b = ASN1OctetString.getInstance(v).getOctets();
    if (b.length != len) {
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN, "PCK " + what + " has " + b.length + " bytes, not " + len);
    }
    return b;
  }

  private static int smallInt(ASN1Encodable v) {
    java.math.BigInteger i =
        v instanceof ASN1Enumerated en ? en.getValue() : ASN1Integer.getInstance(v).getValue();
    if (i.signum() < 0 || i.bitLength() > 16) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, "PCK TCB component out of range");
    }
    return i.intValue();
  }
}
