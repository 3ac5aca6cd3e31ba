package dev.cvmkms.kms.attestation.dcap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Intel DCAP verification of TDX quotes, in-house (there is no Java library). The order and rules
 * follow Intel's QVL and dcap-qvl (spec tdx-attestation §3.2). It is pure: the quote, the
 * collateral and the time are inputs; there is no I/O and no clock.
 *
 * <p>It reports the TCB status and advisories and rejects only what is invalid, revoked, expired or
 * matches no TCB level. Signature checks on a given {@link Collateral} object, and on a platform's
 * PCK chain (by its exact text, bounded), are done once and remembered; validity windows and
 * revocation are checked on every call. Nothing else about a quote is remembered.
 */
public final class DcapVerifier {
  /** Intel's quoting enclave vendor ID. */
  static final byte[] INTEL_QE_VENDOR_ID =
      Bytes.unhex("939a7233f79c4ca9940a0db3957f0607", "vendor");

  private static final long SEPT_VE_DISABLE = 1L << 28;
  private static final long TUD_RESERVED = 0xfeL;

  private final TrustAnchor anchor;
  private final boolean allowServiceTd;
  private final Cache<Collateral, CheckedCollateral> checked =
      Caffeine.newBuilder().weakKeys().maximumSize(64).build();

  /** Platforms (PCK chains) remembered; one per host machine, about 20 KiB each. */
  static final int PCK_CHAIN_CACHE_SIZE = 1024;

  /** Real chains are about 3.5 KiB of PEM (dcap-qvl's samples); anything far larger is not kept. */
  static final int MAX_PCK_CHAIN_CHARS = 16 * 1024;

  private final Cache<String, PlatformChain> chains =
      Caffeine.newBuilder().maximumSize(PCK_CHAIN_CACHE_SIZE).build();
  private final LongAdder chainsVerified = new LongAdder();

  public DcapVerifier(TrustAnchor anchor) {
    this(anchor, false);
  }

  /** {@code allowServiceTd}: accept a TD 1.5 quote with a non-zero MRSERVICETD. */
  public DcapVerifier(TrustAnchor anchor, boolean allowServiceTd) {
    this.anchor = anchor;
    this.allowServiceTd = allowServiceTd;
  }

  public TrustAnchor trustAnchor() {
    return anchor;
  }

  public VerifiedQuote verify(byte[] quote, Collateral collateral, Instant now) {
    return verify(TdxQuote.parse(quote), collateral, now);
  }

  public VerifiedQuote verify(TdxQuote quote, Collateral collateral, Instant now) {
    CheckedCollateral c = checked.get(collateral, this::check);
    c.requireCurrent(anchor, now);

    if (!Bytes.equal(quote.qeVendorId(), INTEL_QE_VENDOR_ID)) {
      throw new AttestationException(Reason.UNSUPPORTED, "QE vendor ID is not Intel's");
    }

    // PCK chain from the quote: signatures to the pinned root once per platform, then its
    // validity windows and both CRLs of this collateral on every call.
    PlatformChain pck = platformChain(quote.pckChainPem());
    pck.requireCurrent(c, now);
    SgxExtension ext = pck.ext.copy();

    TcbInfo tcb = c.tcbInfo;
    if (!tcb.fmspc().equalsIgnoreCase(Bytes.hex(ext.fmspc()))) {
      throw new AttestationException(
          Reason.FMSPC_MISMATCH,
          "TCB Info is for FMSPC "
              + tcb.fmspc()
              + ", the PCK certificate says "
              + hex(ext.fmspc()));
    }
    if (!tcb.pceId().equalsIgnoreCase(Bytes.hex(ext.pceId()))) {
      throw new AttestationException(
          Reason.FMSPC_MISMATCH,
          "TCB Info is for PCE-ID "
              + tcb.pceId()
              + ", the PCK certificate says "
              + hex(ext.pceId()));
    }

    // The QE report is signed by the PCK key and commits to the attestation key.
    if (!EcdsaP256.verify(pck.leafKey, quote.qeReport().raw(), quote.qeReportSignature())) {
      throw new AttestationException(Reason.BAD_SIGNATURE, "QE report signature does not verify");
    }
    byte[] binding = Bytes.sha256(quote.attestationKey(), quote.qeAuthData());
    byte[] qeData = quote.qeReport().reportData();
    if (!Bytes.equal(binding, java.util.Arrays.copyOf(qeData, 32))) {
      throw new AttestationException(
          Reason.QE_BINDING_MISMATCH, "QE report data does not commit to the attestation key");
    }
    TcbInfo.IsvLevel qeLevel = qeIdentity(quote.qeReport(), c.qeIdentity);

    PublicKey ak = EcdsaP256.publicKey(quote.attestationKey());
    if (ak == null) {
      throw new AttestationException(Reason.BAD_SIGNATURE, "attestation key is not a P-256 point");
    }
    if (!EcdsaP256.verify(ak, quote.signedRegion(), quote.signature())) {
      throw new AttestationException(Reason.BAD_SIGNATURE, "quote signature does not verify");
    }

    TdReport body = quote.body();
    TcbInfo.@Nullable IsvLevel moduleLevel = tdxModule(body, tcb);
    TcbInfo.Level platform = platformLevel(body, ext, tcb);
    tdPolicy(body);

    TcbStatus status = platform.status();
    LinkedHashSet<String> advisories = new LinkedHashSet<>(platform.advisoryIds());
    if (moduleLevel != null) {
      status = status.combinedWith(moduleLevel.status());
      advisories.addAll(moduleLevel.advisoryIds());
    }
    status = status.combinedWith(qeLevel.status());
    advisories.addAll(qeLevel.advisoryIds());
    if (status == TcbStatus.REVOKED) {
      throw new AttestationException(Reason.TCB_REVOKED, "the platform's TCB level is Revoked");
    }
    return new VerifiedQuote(
        quote,
        status,
        List.copyOf(advisories),
        platform.status(),
        moduleLevel == null ? null : moduleLevel.status(),
        qeLevel.status(),
        ext,
        pck.leaf);
  }

  private static String hex(byte[] b) {
    return Bytes.hex(b).toUpperCase(Locale.ROOT);
  }

  /**
   * Which collateral a quote needs (FMSPC and PCK CA kind), read from its PCK chain once that chain
   * verified to the pinned root. An unverifiable chain fails here, before any collateral is
   * fetched.
   */
  public CollateralSource.Key collateralKey(TdxQuote quote) {
    return platformChain(quote.pckChainPem()).collateralKey;
  }

  /**
   * The gate before a collateral fetch: {@link #collateralKey}, and both PCK certificates within
   * their validity at {@code now}, so an expired platform never costs an upstream call. (Revocation
   * needs the collateral; {@link #verify} checks it.)
   */
  public CollateralSource.Key fetchableCollateralKey(TdxQuote quote, Instant now) {
    PlatformChain pck = platformChain(quote.pckChainPem());
    pck.requireValidAt(now);
    return pck.collateralKey;
  }

  /** How many PCK chains this verifier verified in full (signatures), for tests and metrics. */
  public long pckChainsVerified() {
    return chainsVerified.sum();
  }

  /**
   * A platform's PCK chain after the checks that do not depend on time or collateral: parsed once,
   * names, CA constraints, both signatures up to the pinned root, the SGX extension. Every quote of
   * one platform carries the same chain, so it is remembered by its exact text (bounded).
   */
  private static final class PlatformChain {
    final X509Certificate leaf;
    final X509Certificate ca;
    final PublicKey leafKey;
    final SgxExtension ext;
    final CollateralSource.Key collateralKey;

    PlatformChain(X509Certificate leaf, X509Certificate ca, SgxExtension ext, String caKind) {
      this.leaf = leaf;
      this.ca = ca;
      this.leafKey = leaf.getPublicKey();
      this.ext = ext;
      this.collateralKey = new CollateralSource.Key(Bytes.hex(ext.fmspc()), caKind);
    }

    /** What is checked on every call: validity at {@code now}, revocation under {@code c}. */
    void requireCurrent(CheckedCollateral c, Instant now) {
      requireValidAt(now);
      if (!c.pckCrl.getIssuerX500Principal().equals(leaf.getIssuerX500Principal())) {
        throw new AttestationException(
            Reason.INVALID_COLLATERAL, "PCK CRL is not from the PCK certificate's issuer");
      }
      Certs.requireNotRevoked(c.pckCrl, leaf, "PCK certificate");
      Certs.requireNotRevoked(c.rootCrl, ca, "PCK CA certificate");
    }

    void requireValidAt(Instant now) {
      Certs.requireValidAt(leaf, now, "PCK certificate");
      Certs.requireValidAt(ca, now, "PCK CA certificate");
    }
  }

  private PlatformChain platformChain(String pem) {
    if (pem == null || pem.length() > MAX_PCK_CHAIN_CHARS) {
      // not remembered: the cache holds only chains that verified, and only of a sane size
      return verifyChain(pem);
    }
    return chains.get(pem, this::verifyChain);
  }

  private PlatformChain verifyChain(String pem) {
    List<X509Certificate> chain = new ArrayList<>(Certs.parsePemChain(pem, "PCK chain"));
    if (anchor.isRoot(chain.get(chain.size() - 1))) {
      chain.remove(chain.size() - 1);
    } else if (chain.size() >= 3) {
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN, "PCK chain ends in a root other than the trusted one");
    }
    if (chain.size() != 2) {
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN, "PCK chain must be PCK certificate, PCK CA, root");
    }
    X509Certificate leaf = chain.get(0);
    X509Certificate ca = chain.get(1);
    if (!Certs.commonName(leaf.getSubjectX500Principal()).contains("SGX PCK Certificate")) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, "leaf is not an SGX PCK Certificate");
    }
    String caName = Certs.commonName(ca.getSubjectX500Principal());
    boolean processor = caName.contains("Processor");
    if (!caName.contains("Platform") && !processor) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, "PCK issuer is not a PCK CA");
    }
    Certs.requireIssuedBy(leaf, ca, "PCK certificate");
    Certs.requireIssuedBy(ca, anchor.root(), "PCK CA certificate");
    SgxExtension ext = SgxExtension.of(leaf);
    chainsVerified.increment();
    return new PlatformChain(leaf, ca, ext, processor ? "processor" : "platform");
  }

  private static TcbInfo.IsvLevel qeIdentity(QeReport qe, QeIdentity id) {
    if (!Bytes.equal(qe.mrSigner(), id.mrSigner())) {
      throw new AttestationException(
          Reason.QE_IDENTITY_MISMATCH, "QE MRSIGNER does not match the QE Identity");
    }
    if (qe.isvProdId() != id.isvProdId()) {
      throw new AttestationException(
          Reason.QE_IDENTITY_MISMATCH, "QE ISVPRODID does not match the QE Identity");
    }
    byte[] misc = java.util.Arrays.copyOfRange(qe.raw(), 16, 20);
    if (!masked(misc, id.miscSelectMask(), id.miscSelect())) {
      throw new AttestationException(
          Reason.QE_IDENTITY_MISMATCH, "QE MISCSELECT does not match the QE Identity");
    }
    if (!masked(qe.attributes(), id.attributesMask(), id.attributes())) {
      throw new AttestationException(
          Reason.QE_IDENTITY_MISMATCH, "QE ATTRIBUTES do not match the QE Identity");
    }
    if (qe.isDebug()) {
      throw new AttestationException(Reason.QE_IDENTITY_MISMATCH, "the QE runs in debug mode");
    }
    for (TcbInfo.IsvLevel l : id.levels()) {
      if (qe.isvSvn() >= l.isvSvn()) {
        return l;
      }
    }
    throw new AttestationException(
        Reason.TCB_NOT_SUPPORTED, "QE ISVSVN " + qe.isvSvn() + " matches no QE TCB level");
  }

  private static boolean masked(byte[] value, byte[] mask, byte[] expected) {
    if (value.length != mask.length || mask.length != expected.length) {
      return false;
    }
    for (int i = 0; i < value.length; i++) {
      if ((value[i] & mask[i]) != (expected[i] & mask[i])) {
        return false;
      }
    }
    return true;
  }

  /** Module identity and, for a quote with a module major version, the module TCB level. */
  private static TcbInfo.@Nullable IsvLevel tdxModule(TdReport body, TcbInfo tcb) {
    int major = body.teeTcbSvn()[1] & 0xff;
    TcbInfo.ModuleIdentity id = tcb.tdxModule();
    if (major > 0) {
      String want = String.format(Locale.ROOT, "TDX_%02X", major);
      id =
          tcb.tdxModuleIdentities().stream()
              .filter(m -> m.id().equalsIgnoreCase(want))
              .findFirst()
              .orElseThrow(
                  () ->
                      new AttestationException(
                          Reason.TDX_MODULE_MISMATCH, "TCB Info has no module identity " + want));
    }
    if (!Bytes.equal(body.mrSignerSeam(), id.mrSigner())) {
      throw new AttestationException(
          Reason.TDX_MODULE_MISMATCH, "MRSIGNERSEAM does not match the TDX module identity");
    }
    if (!masked(body.seamAttributes(), id.attributesMask(), id.attributes())) {
      throw new AttestationException(
          Reason.TDX_MODULE_MISMATCH, "SEAMATTRIBUTES do not match the TDX module identity");
    }
    if (major == 0) {
      return null;
    }
    int svn = body.teeTcbSvn()[0] & 0xff;
    for (TcbInfo.IsvLevel l : id.levels()) {
      if (svn >= l.isvSvn()) {
        return l;
      }
    }
    throw new AttestationException(
        Reason.TCB_NOT_SUPPORTED, "TDX module SVN " + svn + " matches no module TCB level");
  }

  /**
   * The first level (highest first) the platform meets on both its SGX components (from the PCK
   * certificate) and its TDX components (TEE_TCB_SVN). As Intel does, components 0 and 1 are left
   * to the module identity when the quote carries a module major version.
   */
  private static TcbInfo.Level platformLevel(TdReport body, SgxExtension ext, TcbInfo tcb) {
    byte[] tee = body.teeTcbSvn();
    int firstTdx = (tee[1] & 0xff) > 0 ? 2 : 0;
    boolean sgxMatched = false;
    for (TcbInfo.Level l : tcb.levels()) {
      boolean sgx = ext.pceSvn() >= l.pceSvn();
      for (int i = 0; i < 16 && sgx; i++) {
        sgx = ext.cpuSvnComponents()[i] >= l.sgxComponents()[i];
      }
      if (!sgx) {
        continue;
      }
      sgxMatched = true;
      boolean tdx = true;
      for (int i = firstTdx; i < 16 && tdx; i++) {
        tdx = (tee[i] & 0xff) >= l.tdxComponents()[i];
      }
      if (tdx) {
        return l;
      }
    }
    throw new AttestationException(
        Reason.TCB_NOT_SUPPORTED,
        sgxMatched
            ? "TEE_TCB_SVN matches no TCB level"
            : "the PCK certificate's CPUSVN/PCESVN match no TCB level");
  }

  private void tdPolicy(TdReport body) {
    long attrs = body.tdAttributesValue();
    if ((attrs & 1) != 0) {
      throw new AttestationException(Reason.DEBUG_TD, "the TD has the DEBUG attribute");
    }
    if ((attrs & TUD_RESERVED) != 0) {
      throw new AttestationException(Reason.TD_POLICY, "reserved TUD attribute bits are set");
    }
    if ((attrs & SEPT_VE_DISABLE) == 0) {
      throw new AttestationException(Reason.TD_POLICY, "SEPT_VE_DISABLE is not set");
    }
    byte @Nullable [] serviceTd = body.mrServiceTd(); // present exactly for a TD 1.5 body
    if (serviceTd != null && !allowServiceTd && !Bytes.isZero(serviceTd)) {
      throw new AttestationException(Reason.TD_POLICY, "MRSERVICETD is not zero");
    }
  }

  // ---- collateral: signatures once, time on every call ----

  private CheckedCollateral check(Collateral c) {
    X509Certificate root = anchor.root();
    X509CRL rootCrl = Certs.parseCrl(c.rootCaCrl(), "root CA CRL");
    Certs.requireCrlSignedBy(rootCrl, root, "root CA CRL");
    X509CRL pckCrl = Certs.parseCrl(c.pckCrl(), "PCK CRL");
    List<X509Certificate> pckCrlChain = toRoot(c.pckCrlIssuerChain(), "PCK CRL issuer chain");
    Certs.requireCrlSignedBy(pckCrl, pckCrlChain.get(0), "PCK CRL");

    List<X509Certificate> tcbChain = toRoot(c.tcbInfoIssuerChain(), "TCB Info issuer chain");
    requireTcbSigner(tcbChain.get(0));
    byte[] tcbText = c.tcbInfoJson().getBytes(StandardCharsets.UTF_8);
    if (!EcdsaP256.verify(tcbChain.get(0).getPublicKey(), tcbText, c.tcbInfoSignature())) {
      throw new AttestationException(Reason.BAD_SIGNATURE, "TCB Info signature does not verify");
    }
    List<X509Certificate> qeChain = toRoot(c.qeIdentityIssuerChain(), "QE Identity issuer chain");
    requireTcbSigner(qeChain.get(0));
    byte[] qeText = c.qeIdentityJson().getBytes(StandardCharsets.UTF_8);
    if (!EcdsaP256.verify(qeChain.get(0).getPublicKey(), qeText, c.qeIdentitySignature())) {
      throw new AttestationException(Reason.BAD_SIGNATURE, "QE Identity signature does not verify");
    }
    TcbInfo tcb = TcbInfo.parse(c.tcbInfoJson());
    if (!"TDX".equals(tcb.id()) || tcb.version() < 3) {
      throw new AttestationException(
          Reason.INVALID_COLLATERAL,
          "TCB Info is not TDX v3 (" + tcb.id() + " v" + tcb.version() + ")");
    }
    QeIdentity qe = QeIdentity.parse(c.qeIdentityJson());
    if (!"TD_QE".equals(qe.id()) || qe.version() < 2 || qe.version() > 3) {
      throw new AttestationException(
          Reason.INVALID_COLLATERAL, "QE Identity is not TD_QE v2 (" + qe.id() + ")");
    }
    List<X509Certificate> intermediates = new ArrayList<>();
    intermediates.addAll(pckCrlChain);
    intermediates.addAll(tcbChain);
    intermediates.addAll(qeChain);
    return new CheckedCollateral(rootCrl, pckCrl, intermediates, tcb, qe);
  }

  private static void requireTcbSigner(X509Certificate c) {
    if (!Certs.commonName(c.getSubjectX500Principal()).contains("TCB Signing")) {
      throw new AttestationException(
          Reason.INVALID_COLLATERAL, "collateral is not signed by a TCB Signing certificate");
    }
  }

  /** Verifies a PEM issuer chain up to the pinned root; returns it without the root. */
  private List<X509Certificate> toRoot(String pem, String what) {
    List<X509Certificate> chain = new ArrayList<>(Certs.parsePemChain(pem, what));
    while (!chain.isEmpty() && anchor.isRoot(chain.get(chain.size() - 1))) {
      chain.remove(chain.size() - 1);
    }
    if (chain.isEmpty()) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, what + ": no signing certificate");
    }
    for (int i = 0; i < chain.size(); i++) {
      X509Certificate issuer = i + 1 < chain.size() ? chain.get(i + 1) : anchor.root();
      Certs.requireIssuedBy(chain.get(i), issuer, what);
    }
    return List.copyOf(chain);
  }

  private static final class CheckedCollateral {
    final X509CRL rootCrl;
    final X509CRL pckCrl;
    final List<X509Certificate> intermediates;
    final TcbInfo tcbInfo;
    final QeIdentity qeIdentity;

    CheckedCollateral(
        X509CRL rootCrl,
        X509CRL pckCrl,
        List<X509Certificate> intermediates,
        TcbInfo tcbInfo,
        QeIdentity qeIdentity) {
      this.rootCrl = rootCrl;
      this.pckCrl = pckCrl;
      this.intermediates = intermediates;
      this.tcbInfo = tcbInfo;
      this.qeIdentity = qeIdentity;
    }

    void requireCurrent(TrustAnchor anchor, Instant now) {
      Certs.requireValidAt(anchor.root(), now, "root CA");
      Certs.requireCurrent(rootCrl, now, "root CA CRL");
      Certs.requireCurrent(pckCrl, now, "PCK CRL");
      Certs.requireNotRevoked(rootCrl, anchor.root(), "root CA");
      for (X509Certificate c : intermediates) {
        Certs.requireValidAt(c, now, "collateral signer");
        Certs.requireNotRevoked(rootCrl, c, "collateral signer");
      }
      window(tcbInfo.issueDate(), tcbInfo.nextUpdate(), now, "TCB Info");
      window(qeIdentity.issueDate(), qeIdentity.nextUpdate(), now, "QE Identity");
    }

    private static void window(Instant issued, Instant next, Instant now, String what) {
      if (now.isBefore(issued) || now.isAfter(next)) {
        throw new AttestationException(
            Reason.EXPIRED, what + " valid " + issued + " to " + next + ", not at " + now);
      }
    }
  }
}
