package dev.cvmkms.kms.attestation.mock;

import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.QuoteProvider;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.eventlog.Rtmr;
import dev.cvmkms.kms.attestation.eventlog.RuntimeEvent;
import dev.cvmkms.kms.attestation.eventlog.TdxEvent;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Everything {@code kms dev} and CI need to run attestation with no TDX hardware: from a fixed
 * seed, a quote provider, dstack-style attestations whose RTMR3 replays from a dstack KMS CVM's
 * event log, and the real verifier configured with the mock root and in-process collateral.
 *
 * <p>The verifier trusts the mock root through {@link
 * dev.cvmkms.kms.attestation.dcap.TrustAnchor#insecureExternal}, which logs a warning: production
 * configuration must never reach this class.
 */
public final class MockTdx implements QuoteProvider, AttestationProvider {
  private static final String DEFAULT_SEED = "cvm-kms mock tdx v1";

  /** The seed {@code kms dev} and {@code kms quote --provider mock} use. */
  public static byte[] defaultSeed() {
    return DEFAULT_SEED.getBytes(StandardCharsets.UTF_8);
  }

  private static final long EV_PLATFORM_CONFIG_FLAGS = 10;
  private static final long EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003L;

  private final MockTdxPki pki;
  private final Collateral collateral;
  private final byte[] seed;
  private final int eventLogVersion;
  private final List<TdxEvent> bootEvents;
  private final byte[][] bootRtmrs = new byte[3][];
  private final byte[] mrTd;
  private final String appCompose;
  private final String vmConfig;

  /**
   * @param seed the PKI and identity seed
   * @param now start of the collateral's validity (it is valid from now − 1 day for 30 days)
   * @param eventLogVersion 1 (V0 SCALE attestations) or 2 (V2 event digests, V1 msgpack)
   */
  public MockTdx(byte[] seed, Instant now, int eventLogVersion) {
    if (eventLogVersion != 1 && eventLogVersion != 2) {
      throw new IllegalArgumentException("event log version must be 1 or 2");
    }
    this.seed = seed.clone();
    this.eventLogVersion = eventLogVersion;
    this.pki = new MockTdxPki(seed);
    this.collateral = pki.collateral(MockCollateralSpec.healthy(now));
    this.mrTd = Bytes.sha384(seed, utf8("mock-mrtd"));
    this.bootEvents = new ArrayList<>();
    for (int imr = 0; imr < 3; imr++) {
      for (int i = 0; i < 3; i++) {
        long type = imr == 0 ? EV_PLATFORM_CONFIG_FLAGS : EV_EFI_BOOT_SERVICES_APPLICATION;
        byte[] payload = imr == 0 ? utf8("ACPI DATA") : utf8("mock boot " + imr + "." + i);
        byte[] digest = Bytes.sha384(seed, utf8("boot " + imr + "." + i));
        bootEvents.add(new TdxEvent(imr, type, digest, "", payload, 1, null));
      }
      bootRtmrs[imr] = EventLogs.replay(bootEvents, imr);
    }
    this.appCompose =
        "{\"manifest_version\":2,\"name\":\"cvm-kms-dev\",\"runner\":\"docker-compose\"}";
    this.vmConfig =
        "{\"spec_version\":1,\"os_image_hash\":\""
            + Bytes.hex(Bytes.sha256(seed, utf8("mock-os-image")))
            + "\",\"cpu_count\":2,\"memory_size\":4294967296}";
  }

  /** The default seed, V1 event digests, collateral valid around {@code now}. */
  public static MockTdx create(Instant now) {
    return new MockTdx(defaultSeed(), now, 1);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public MockTdxPki pki() {
    return pki;
  }

  public Collateral collateral() {
    return collateral;
  }

  public String vmConfig() {
    return vmConfig;
  }

  /** SHA-256 of the mock app-compose.json; app-id is its first 20 bytes. */
  public byte[] composeHash() {
    return Bytes.sha256(utf8(appCompose));
  }

  public byte[] appId() {
    return Arrays.copyOf(composeHash(), 20);
  }

  /** The events a dstack KMS CVM emits into RTMR3, up to and past system-ready. */
  public List<RuntimeEvent> runtimeEvents() {
    return guestRuntimeEvents(
        appId(), composeHash(), Arrays.copyOf(Bytes.sha256(seed, utf8("mock-instance")), 20));
  }

  /**
   * The RTMR3 events of a guest of this mock platform with its own identity: same boot chain, key
   * provider and vm_config as {@link #runtimeEvents()}, but the given app id, compose hash and
   * instance id (an empty instance id is emitted as an empty payload, as dstack does when instance
   * ids are off).
   */
  public List<RuntimeEvent> guestRuntimeEvents(
      byte[] appId, byte[] composeHash, byte[] instanceId) {
    byte[] keyProvider =
        utf8(
            "{\"name\":\"local-sgx\",\"id\":\""
                + Bytes.hex(Bytes.sha256(seed, utf8("mock-key-provider")))
                + "\"}");
    List<RuntimeEvent> ev = new ArrayList<>();
    ev.add(event("system-preparing", new byte[0]));
    ev.add(event("app-id", appId.clone()));
    ev.add(event("compose-hash", composeHash.clone()));
    ev.add(event("instance-id", instanceId.clone()));
    ev.add(event("boot-mr-done", new byte[0]));
    ev.add(event("key-provider", keyProvider));
    ev.add(event("storage-fs", utf8("ext4")));
    ev.add(event("system-ready", new byte[0]));
    return ev;
  }

  private RuntimeEvent event(String name, byte[] payload) {
    return new RuntimeEvent(name, payload, eventLogVersion);
  }

  /** A quote spec with this mock's MRTD, boot RTMRs, RTMR3 for {@code events} and report data. */
  public MockQuoteSpec quoteSpec(byte[] reportData, List<RuntimeEvent> events) {
    MockQuoteSpec s = new MockQuoteSpec().reportData(reportData);
    s.mrTd = mrTd.clone();
    for (int i = 0; i < 3; i++) {
      s.rtmr[i] = bootRtmrs[i].clone();
    }
    s.rtmr[3] = Rtmr.replay(events);
    return s;
  }

  @Override
  public byte[] quote(byte[] reportData) {
    QuoteProvider.requireReportData(reportData);
    return pki.quote(quoteSpec(reportData, runtimeEvents()));
  }

  @Override
  public String name() {
    return "mock";
  }

  /** The full (unstripped) attestation the guest agent's Attest call would return. */
  public VersionedAttestation attestation(byte[] reportData) {
    return attestation(reportData, runtimeEvents());
  }

  /**
   * An attestation provider for a guest with its own identity ({@link #guestRuntimeEvents}), quoted
   * by this mock platform, so a KMS trusting this mock's root verifies it.
   */
  public AttestationProvider guest(byte[] appId, byte[] composeHash, byte[] instanceId) {
    List<RuntimeEvent> events = guestRuntimeEvents(appId, composeHash, instanceId);
    return reportData -> attestation(reportData, events).encode();
  }

  private VersionedAttestation attestation(byte[] reportData, List<RuntimeEvent> events) {
    QuoteProvider.requireReportData(reportData);
    List<TdxEvent> log = new ArrayList<>(bootEvents);
    events.forEach(e -> log.add(TdxEvent.ofRuntime(e)));
    return new VersionedAttestation(
        eventLogVersion == 2 ? 1 : 0,
        pki.quote(quoteSpec(reportData, events)),
        log,
        events,
        reportData,
        vmConfig);
  }

  @Override
  public byte[] versionedAttestation(byte[] reportData) {
    return attestation(reportData).encode();
  }

  /** The real DCAP verifier with the mock root (an insecure anchor, logged as such). */
  public DcapVerifier dcapVerifier() {
    return new DcapVerifier(pki.trustAnchor());
  }

  /** The real attestation verifier with the mock root and this mock's collateral in-process. */
  public AttestationVerifier verifier() {
    return new AttestationVerifier(dcapVerifier(), CollateralSource.fixed(collateral));
  }

  /**
   * For long-running {@code kms dev}: collateral re-issued from the clock once a day, so it never
   * runs past its 30-day window. Verification still takes its time from the caller.
   */
  public CollateralSource collateralSource(java.time.Clock clock) {
    return new CollateralSource() {
      private Collateral current = collateral;
      private Instant issuedFor = Instant.MIN;

      @Override
      public java.util.concurrent.CompletionStage<Collateral> fetch(Key key) {
        return java.util.concurrent.CompletableFuture.completedFuture(current());
      }

      @Override
      public java.util.Optional<Collateral> cached(Key key) {
        return java.util.Optional.of(current());
      }

      private synchronized Collateral current() {
        Instant now = clock.instant();
        if (issuedFor.isBefore(now.minus(java.time.Duration.ofDays(1)))) {
          current = pki.collateral(MockCollateralSpec.healthy(now));
          issuedFor = now;
        }
        return current;
      }
    };
  }

  /** {@link #verifier()} with {@link #collateralSource(java.time.Clock)}. */
  public AttestationVerifier verifier(java.time.Clock clock) {
    return new AttestationVerifier(dcapVerifier(), collateralSource(clock));
  }

  @Override
  public String toString() {
    return "MockTdx[" + pki + "]";
  }
}
