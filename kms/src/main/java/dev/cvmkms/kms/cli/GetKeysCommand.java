package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.client.KmsClientException;
import dev.cvmkms.kms.client.RaTlsKmsClient;
import dev.cvmkms.kms.client.ServerAttestationPolicy;
import dev.cvmkms.kms.config.AttestationConfig;
import dev.cvmkms.kms.config.PccsConfig;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.rpc.PrpcJson;
import dev.cvmkms.kms.upstream.PccsClient;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kms get-keys}: what a dstack guest does at boot (spec §14.1): GetTempCaCert, an RA-TLS
 * client certificate, then GetAppKey over mutual TLS, with the KMS's certificate always verified.
 * Prints the AppKeyResponse as pRPC JSON, one document on stdout.
 */
@Command(
    name = "get-keys",
    mixinStandardHelpOptions = true,
    description =
        "Fetch an app's keys from a KMS like a dstack guest (GetTempCaCert, RA-TLS, GetAppKey);"
            + " prints the AppKeyResponse as pRPC JSON.")
public final class GetKeysCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(GetKeysCommand.class);

  @Option(names = "--url", required = true, description = "KMS URL, e.g. https://kms:8000")
  String url = ""; // required: picocli always sets it

  @Option(
      names = "--app-id",
      paramLabel = "HEX",
      description =
          "20-byte app id of the mock guest (required with --insecure-mock-attestation; with the"
              + " guest agent the CVM's own identity is used)")
  @Nullable String appId;

  @Option(names = "--instance-id", paramLabel = "HEX", description = "mock guest's instance id")
  @Nullable String instanceId;

  @Option(
      names = "--compose-hash",
      paramLabel = "HEX",
      description = "mock guest's compose hash (default: SHA-256 of the app id)")
  @Nullable String composeHash;

  @Option(
      names = "--root-ca",
      paramLabel = "FILE",
      description = "trust only this root CA (PEM); default: the ca_cert GetTempCaCert returns")
  @Nullable Path rootCa;

  @Option(
      names = "--insecure-mock-attestation",
      description =
          "attest as a guest of the MOCK TDX platform (as kms dev trusts), with the given ids")
  boolean mock;

  @Option(
      names = "--pccs-url",
      paramLabel = "URL",
      description = "collateral for verifying the KMS's quote (default: Intel PCS)")
  @Nullable URI pccsUrl;

  @Option(
      names = "--timeout",
      defaultValue = "60",
      paramLabel = "SECONDS",
      description = "total deadline. Default: ${DEFAULT-VALUE}")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    Clock clock = Clock.systemUTC();
    Optional<X509Certificate> root = Optional.empty();
    if (rootCa != null) {
      root = Optional.of(Pem.parseCertificate(Files.readString(rootCa, StandardCharsets.UTF_8)));
    }
    AttestationProvider attester;
    AttestationVerifier verifier;
    String vmConfig;
    if (mock) {
      if (appId == null) {
        throw new IllegalArgumentException("--app-id is required with --insecure-mock-attestation");
      }
      byte[] app = hex("--app-id", appId, 20);
      byte[] compose =
          composeHash == null ? Bytes.sha256(app) : hex("--compose-hash", composeHash, 32);
      byte[] instance = instanceId == null ? new byte[0] : hex("--instance-id", instanceId, 20);
      MockTdx tdx = MockTdx.create(clock.instant());
      LOG.warn("INSECURE: attesting with the MOCK TDX platform; its quotes prove nothing");
      attester = tdx.guest(app, compose, instance);
      verifier = tdx.verifier(clock);
      vmConfig = tdx.vmConfig();
    } else {
      if (appId != null || instanceId != null || composeHash != null) {
        LOG.warn("--app-id/--instance-id/--compose-hash only apply to the mock; ignoring them");
      }
      var meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
      attester =
          CvmAttestation.guestAgent(
              System.getenv(), AttestationConfig.guestAgentDefaults(), meters, clock);
      verifier =
          new AttestationVerifier(
              new DcapVerifier(TrustAnchor.intelSgxRoot()),
              PccsClient.cached(
                  pccsUrl == null ? CvmAttestation.INTEL_PCS : pccsUrl,
                  PccsConfig.defaults(),
                  meters,
                  clock,
                  dev.cvmkms.kms.KmsVersion.version()));
      vmConfig = ""; // as dstack-util get-keys: the KMS reads the attestation's own vm_config
    }
    RaTlsKmsClient.Settings base =
        RaTlsKmsClient.Settings.of(
            url, root, attester, new ServerAttestationPolicy(verifier, false, clock));
    RaTlsKmsClient.Settings settings =
        new RaTlsKmsClient.Settings(
            base.prpcBase(),
            base.trustedRoot(),
            base.attester(),
            base.serverPolicy(),
            base.connectTimeout(),
            Duration.ofSeconds(timeoutSeconds),
            base.maxResponseBytes());
    Vertx vertx = Vertx.vertx();
    try {
      CryptoPool workers = new CryptoPool(vertx, 2, 60);
      RaTlsKmsClient client = RaTlsKmsClient.create(vertx, workers, settings);
      AppKeyResponse keys;
      try {
        keys =
            client
                .openAndCall(
                    "GetAppKey",
                    GetAppKeyRequest.newBuilder().setApiVersion(1).setVmConfig(vmConfig).build(),
                    AppKeyResponse.getDefaultInstance())
                .eventually(client::close)
                .toCompletionStage()
                .toCompletableFuture()
                .get(timeoutSeconds + 5L, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof KmsClientException k) {
          throw new IllegalStateException("get-keys failed: " + k.getMessage(), k);
        }
        throw new IllegalStateException("get-keys failed: " + cause, cause);
      }
      if (keys.getDiskCryptKey().isEmpty()) {
        throw new IllegalStateException("get-keys failed: the KMS returned an empty disk key");
      }
      System.out.println(PrpcJson.encodeToString(keys));
      System.out.flush();
      return 0;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static byte[] hex(String option, String value, int length) {
    String v = value.startsWith("0x") || value.startsWith("0X") ? value.substring(2) : value;
    byte[] b;
    try {
      b = HexFormat.of().parseHex(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + " is not hex");
    }
    if (b.length != length) {
      throw new IllegalArgumentException(option + " must be " + length + " bytes, not " + b.length);
    }
    return b;
  }
}
