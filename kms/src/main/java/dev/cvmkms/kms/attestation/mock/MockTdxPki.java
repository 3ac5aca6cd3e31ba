package dev.cvmkms.kms.attestation.mock;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.dcap.Certs;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.SgxExtension;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.encoding.Pem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.jspecify.annotations.Nullable;

/**
 * A deterministic mock of Intel's TDX PKI (root, PCK Platform CA, PCK leaf with the SGX extension,
 * TCB Signing cert, CRLs, TCB Info and QE Identity) and a generator of structurally real v4/v5
 * quotes under it. The real {@link dev.cvmkms.kms.attestation.dcap.DcapVerifier} accepts them when
 * given {@link #trustAnchor()}, which is an insecure (non-Intel) anchor. Names, key derivation and
 * defaults follow dstack's mock attestation crate (spec tdx-attestation §6.1).
 */
public final class MockTdxPki {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant NOT_BEFORE = Instant.parse("2020-01-01T00:00:00Z");
  private static final Instant NOT_AFTER = Instant.parse("2100-01-01T00:00:00Z");
  private static final String SUFFIX = ",O=Intel Corporation,L=Santa Clara,ST=CA,C=US";
  static final byte[] QE_AUTH_DATA = new byte[32];

  private final byte[] seed;
  private final MockKeys.Key rootKey;
  private final MockKeys.Key pckCaKey;
  private final MockKeys.Key pckKey;
  private final MockKeys.Key tcbKey;
  private final MockKeys.Key attestationKey;
  private final byte[] ppid;
  private final byte[] fmspc;
  private final X509Certificate root;
  private final X509Certificate pckCa;
  private final X509Certificate pck;
  private final X509Certificate tcbSigning;

  public MockTdxPki(byte[] seed) {
    this(seed, new byte[6]);
  }

  /** A PKI whose PCK certificate carries {@code fmspc} (6 bytes) instead of zeros. */
  public MockTdxPki(byte[] seed, byte[] fmspc) {
    this(seed, fmspc, null);
  }

  /**
   * The same PKI (keys, root, CA) with a PCK certificate for another FMSPC: cheap, for floods of
   * quotes that each claim another platform.
   */
  public MockTdxPki withFmspc(byte[] otherFmspc) {
    return new MockTdxPki(seed, otherFmspc, this);
  }

  private MockTdxPki(byte[] seed, byte[] fmspc, @Nullable MockTdxPki base) {
    if (fmspc.length != 6) {
      throw new IllegalArgumentException("FMSPC is 6 bytes");
    }
    this.fmspc = fmspc.clone();
    this.seed = seed.clone();
    rootKey = base != null ? base.rootKey : MockKeys.derive(seed, "tdx-root");
    pckCaKey = base != null ? base.pckCaKey : MockKeys.derive(seed, "tdx-pck-ca");
    pckKey = base != null ? base.pckKey : MockKeys.derive(seed, "tdx-pck");
    tcbKey = base != null ? base.tcbKey : MockKeys.derive(seed, "tdx-tcb");
    attestationKey =
        base != null ? base.attestationKey : MockKeys.derive(seed, "tdx-attestation-key");
    ppid = java.util.Arrays.copyOf(Bytes.sha256(seed, "mock-ppid".getBytes(UTF8)), 16);
    X500Name rootName = new X500Name("CN=Mock Intel SGX Root CA" + SUFFIX);
    X500Name caName = new X500Name("CN=Mock Intel SGX PCK Platform CA" + SUFFIX);
    root = base != null ? base.root : cert(rootName, rootName, rootKey, rootKey, 1, true, null);
    pckCa = base != null ? base.pckCa : cert(caName, rootName, pckCaKey, rootKey, 2, true, null);
    pck =
        cert(
            new X500Name("CN=Mock Intel SGX PCK Certificate" + SUFFIX),
            caName,
            pckKey,
            pckCaKey,
            3,
            false,
            sgxExtension());
    tcbSigning =
        base != null
            ? base.tcbSigning
            : cert(
                new X500Name("CN=Mock Intel SGX TCB Signing" + SUFFIX),
                rootName,
                tcbKey,
                rootKey,
                4,
                false,
                null);
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;

  public X509Certificate root() {
    return root;
  }

  public X509Certificate pckCertificate() {
    return pck;
  }

  private @Nullable TrustAnchor anchor;

  /** The mock root as a trust anchor: logged as INSECURE (once per PKI), as it must be. */
  public synchronized TrustAnchor trustAnchor() {
    if (anchor == null) {
      anchor = TrustAnchor.insecureExternal(root);
    }
    return anchor;
  }

  public byte[] ppid() {
    return ppid.clone();
  }

  public String pckChainPem() {
    return Pem.certificate(pck) + Pem.certificate(pckCa) + Pem.certificate(root);
  }

  // ---- certificates ----

  private ASN1Encodable sgxExtension() {
    String base = SgxExtension.OID;
    ASN1EncodableVector tcb = new ASN1EncodableVector();
    for (int i = 1; i <= 16; i++) {
      tcb.add(pair(base + ".2." + i, new ASN1Integer(0)));
    }
    tcb.add(pair(base + ".2.17", new ASN1Integer(0)));
    tcb.add(pair(base + ".2.18", new DEROctetString(new byte[16])));
    ASN1EncodableVector v = new ASN1EncodableVector();
    v.add(pair(base + ".1", new DEROctetString(ppid)));
    v.add(pair(base + ".2", new DERSequence(tcb)));
    v.add(pair(base + ".3", new DEROctetString(new byte[2])));
    v.add(pair(base + ".4", new DEROctetString(fmspc)));
    v.add(pair(base + ".5", new ASN1Enumerated(0)));
    return new DERSequence(v);
  }

  private static DERSequence pair(String oid, ASN1Encodable value) {
    return new DERSequence(new ASN1Encodable[] {new ASN1ObjectIdentifier(oid), value});
  }

  private static X509Certificate cert(
      X500Name subject,
      X500Name issuer,
      MockKeys.Key key,
      MockKeys.Key issuerKey,
      int serial,
      boolean ca,
      @Nullable ASN1Encodable sgx) {
    try {
      var b =
          new X509v3CertificateBuilder(
              issuer,
              BigInteger.valueOf(0x1000 + serial),
              Date.from(NOT_BEFORE),
              Date.from(NOT_AFTER),
              subject,
              SubjectPublicKeyInfo.getInstance(key.publicKey.getEncoded()));
      if (ca) {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(serial == 1 ? 1 : 0));
        b.addExtension(
            Extension.keyUsage,
            true,
            new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      } else {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(
            Extension.keyUsage,
            true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
      }
      if (sgx != null) {
        b.addExtension(new ASN1ObjectIdentifier(SgxExtension.OID), false, sgx);
      }
      return Certs.parseDer(b.build(issuerKey.contentSigner()).getEncoded(), "mock cert");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private byte[] crl(
      X509Certificate issuer,
      MockKeys.Key key,
      Instant from,
      Instant to,
      @Nullable X509Certificate revoked) {
    try {
      var b =
          new X509v2CRLBuilder(
              X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()), Date.from(from));
      b.setNextUpdate(Date.from(to));
      if (revoked != null) {
        b.addCRLEntry(revoked.getSerialNumber(), Date.from(from), 1);
      }
      return b.build(key.contentSigner()).getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- collateral ----

  /** TCB Info, QE Identity and CRLs as the spec says, signed by the mock TCB Signing key. */
  public Collateral collateral(MockCollateralSpec spec) {
    Instant from = spec.issuedAt().truncatedTo(ChronoUnit.SECONDS);
    Instant to = spec.nextUpdate().truncatedTo(ChronoUnit.SECONDS);
    String tcbInfo = tcbInfoJson(spec, from, to);
    String qeIdentity = qeIdentityJson(spec, from, to);
    byte[] tcbSig = tcbKey.signRaw(tcbInfo.getBytes(UTF8));
    byte[] qeSig = tcbKey.signRaw(qeIdentity.getBytes(UTF8));
    return new Collateral(
        Pem.certificate(pckCa) + Pem.certificate(root),
        crl(root, rootKey, from, to, null),
        crl(pckCa, pckCaKey, from, to, spec.revokePck() ? pck : null),
        Pem.certificate(tcbSigning) + Pem.certificate(root),
        tcbInfo,
        tcbSig,
        Pem.certificate(tcbSigning) + Pem.certificate(root),
        qeIdentity,
        qeSig);
  }

  private static String tcbInfoJson(MockCollateralSpec spec, Instant from, Instant to) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", "TDX");
    o.put("version", 3);
    o.put("issueDate", from.toString());
    o.put("nextUpdate", to.toString());
    o.put("fmspc", spec.fmspc());
    o.put("pceId", spec.pceId());
    o.put("tcbType", 0);
    o.put("tcbEvaluationDataNumber", 1);
    ObjectNode mod = o.putObject("tdxModule");
    mod.put("mrsigner", "00".repeat(48));
    mod.put("attributes", "0000000000000000");
    mod.put("attributesMask", "FFFFFFFFFFFFFFFF");
    ObjectNode tdx01 = o.putArray("tdxModuleIdentities").addObject();
    tdx01.put("id", "TDX_01");
    tdx01.put("mrsigner", "00".repeat(48));
    tdx01.put("attributes", "0000000000000000");
    tdx01.put("attributesMask", "FFFFFFFFFFFFFFFF");
    ArrayNode modLevels = tdx01.putArray("tcbLevels");
    isvLevel(modLevels, 2, spec.moduleStatus(), List.of());
    isvLevel(modLevels, 0, "OutOfDate", List.of("INTEL-SA-MOCK-0001"));
    ObjectNode level = o.putArray("tcbLevels").addObject();
    ObjectNode tcb = level.putObject("tcb");
    ArrayNode sgx = tcb.putArray("sgxtcbcomponents");
    for (int i = 0; i < 16; i++) {
      sgx.addObject().put("svn", i == 0 && spec.noMatchingPlatformLevel() ? 1 : 0);
    }
    tcb.put("pcesvn", 0);
    ArrayNode tdx = tcb.putArray("tdxtcbcomponents");
    for (int i = 0; i < 16; i++) {
      tdx.addObject().put("svn", 0);
    }
    level.put("tcbDate", "2020-01-01T00:00:00Z");
    level.put("tcbStatus", spec.platformStatus());
    if (!spec.platformAdvisories().isEmpty()) {
      ArrayNode adv = level.putArray("advisoryIDs");
      spec.platformAdvisories().forEach(adv::add);
    }
    return o.toString();
  }

  private static void isvLevel(ArrayNode levels, int svn, String status, List<String> adv) {
    ObjectNode l = levels.addObject();
    l.putObject("tcb").put("isvsvn", svn);
    l.put("tcbDate", "2020-01-01T00:00:00Z");
    l.put("tcbStatus", status);
    if (!adv.isEmpty()) {
      ArrayNode a = l.putArray("advisoryIDs");
      adv.forEach(a::add);
    }
  }

  private static String qeIdentityJson(MockCollateralSpec spec, Instant from, Instant to) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", "TD_QE");
    o.put("version", 2);
    o.put("issueDate", from.toString());
    o.put("nextUpdate", to.toString());
    o.put("tcbEvaluationDataNumber", 1);
    o.put("miscselect", "00000000");
    o.put("miscselectMask", "FFFFFFFF");
    o.put("attributes", "11000000000000000000000000000000");
    o.put("attributesMask", "FBFFFFFFFFFFFFFF0000000000000000");
    o.put("mrsigner", spec.qeMrSignerHex().toUpperCase(java.util.Locale.ROOT));
    o.put("isvprodid", spec.qeIsvProdId());
    isvLevel(o.putArray("tcbLevels"), 1, "UpToDate", List.of());
    return o.toString();
  }

  // ---- quotes ----

  /** A quote laid out exactly like a real one (spec §2), signed under this PKI. */
  public byte[] quote(MockQuoteSpec s) {
    boolean v5 = s.version == 5;
    ByteArrayOutputStream q = new ByteArrayOutputStream();
    writeLe(q, s.version, 2);
    writeLe(q, TdxQuote.ATT_KEY_ECDSA_P256, 2);
    writeLe(q, TdxQuote.TEE_TDX, 4);
    q.writeBytes(new byte[4]);
    q.writeBytes(Bytes.unhex("939a7233f79c4ca9940a0db3957f0607", "vendor"));
    q.writeBytes(new byte[20]);
    if (v5) {
      writeLe(q, TdxQuote.BODY_TD15, 2);
      writeLe(q, 648, 4);
    }
    q.writeBytes(s.teeTcbSvn);
    q.writeBytes(Bytes.sha384(seed, "mock-mrseam".getBytes(UTF8)));
    q.writeBytes(s.mrSignerSeam);
    q.writeBytes(new byte[8]); // SEAMATTRIBUTES
    q.writeBytes(
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(s.tdAttributes).array());
    q.writeBytes(Bytes.unhex("e702060000000000", "xfam"));
    q.writeBytes(s.mrTd);
    q.writeBytes(s.mrConfigId);
    q.writeBytes(s.mrOwner);
    q.writeBytes(s.mrOwnerConfig);
    for (byte[] r : s.rtmr) {
      q.writeBytes(r);
    }
    q.writeBytes(s.reportData);
    if (v5) {
      q.writeBytes(s.teeTcbSvn); // TEE_TCB_SVN2: the same module, no relaunch pending
      q.writeBytes(s.mrServiceTd);
    }
    byte[] signed = q.toByteArray();

    byte[] qeReport = qeReport(s);
    ByteArrayOutputStream cert = new ByteArrayOutputStream();
    cert.writeBytes(qeReport);
    cert.writeBytes(pckKey.signRaw(qeReport));
    writeLe(cert, QE_AUTH_DATA.length, 2);
    cert.writeBytes(QE_AUTH_DATA);
    byte[] chain = (pckChainPem() + "\0").getBytes(StandardCharsets.US_ASCII);
    writeLe(cert, 5, 2);
    writeLe(cert, chain.length, 4);
    cert.writeBytes(chain);
    byte[] certData = cert.toByteArray();

    ByteArrayOutputStream sig = new ByteArrayOutputStream();
    sig.writeBytes(attestationKey.signRaw(signed));
    sig.writeBytes(attestationKey.publicXy);
    writeLe(sig, 6, 2);
    writeLe(sig, certData.length, 4);
    sig.writeBytes(certData);
    byte[] sigData = sig.toByteArray();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(signed);
    writeLe(out, sigData.length, 4);
    out.writeBytes(sigData);
    out.writeBytes(new byte[s.trailingPadding]);
    return out.toByteArray();
  }

  private byte[] qeReport(MockQuoteSpec s) {
    byte[] r = new byte[384];
    r[48] = 0x11; // ATTRIBUTES: INIT | MODE64BIT, not DEBUG
    System.arraycopy(Bytes.sha256(seed, "mock-qe".getBytes(UTF8)), 0, r, 64, 32);
    System.arraycopy(s.qeMrSigner, 0, r, 128, 32);
    r[256] = (byte) s.qeIsvProdId;
    r[257] = (byte) (s.qeIsvProdId >> 8);
    r[258] = (byte) s.qeIsvSvn;
    r[259] = (byte) (s.qeIsvSvn >> 8);
    byte[] binding = Bytes.sha256(attestationKey.publicXy, QE_AUTH_DATA);
    if (s.breakQeBinding) {
      binding[0] ^= 1;
    }
    System.arraycopy(binding, 0, r, 320, 32);
    return r;
  }

  private static void writeLe(ByteArrayOutputStream o, long v, int n) {
    for (int i = 0; i < n; i++) {
      o.write((int) (v >>> (8 * i)) & 0xff);
    }
  }

  @Override
  public String toString() {
    return "MockTdxPki[root " + root.getSubjectX500Principal().getName() + "]";
  }
}
