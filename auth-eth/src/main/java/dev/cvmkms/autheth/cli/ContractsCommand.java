package dev.cvmkms.autheth.cli;

import dev.cvmkms.autheth.config.Addresses;
import dev.cvmkms.autheth.config.RpcEndpoint;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Deploys our DstackKms/DstackApp contracts and edits their allowlists. Every command prints one
 * JSON document on stdout. The signing key comes from {@code --private-key-file} or {@code
 * ETH_PRIVATE_KEY}, never from the command line.
 */
@Command(
    name = "contracts",
    mixinStandardHelpOptions = true,
    description = "Deploy and administer the DstackKms / DstackApp contracts.")
public final class ContractsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err);
    return 2;
  }

  /** Where the chain is and who signs. */
  public static final class ChainOptions {
    @Option(
        names = "--rpc-url",
        description = "JSON-RPC URL (default: $ETH_RPC_URL or http://localhost:8545)")
    @Nullable String rpcUrl;

    @Option(
        names = "--private-key-file",
        description = "file holding the hex private key (default: $ETH_PRIVATE_KEY)")
    @Nullable Path privateKeyFile;

    RpcEndpoint endpoint() {
      String url =
          rpcUrl != null
              ? rpcUrl
              : Optional.ofNullable(System.getenv("ETH_RPC_URL")).orElse("http://localhost:8545");
      return new RpcEndpoint(
          url,
          Optional.ofNullable(System.getenv("ETH_RPC_API_KEY")),
          Optional.ofNullable(System.getenv("ETH_RPC_API_KEY_HEADER")).orElse("X-Api-Key"));
    }

    Credentials signer() {
      String key;
      if (privateKeyFile != null) {
        try {
          key = Files.readString(privateKeyFile, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
          throw new CliException("cannot read --private-key-file");
        }
      } else {
        key = System.getenv("ETH_PRIVATE_KEY");
      }
      if (key == null || !key.matches("(0x)?[0-9a-fA-F]{64}")) {
        throw new CliException(
            "a 32-byte hex private key is required (--private-key-file or ETH_PRIVATE_KEY)");
      }
      return Credentials.create(key);
    }
  }

  @Mixin ChainOptions chain;

  @Command(
      name = "deploy",
      description = "Deploy the DstackApp template and a DstackKms owned by the signer.")
  int deploy(
      @Option(names = "--gateway-app-id", description = "set gatewayAppId after deploying")
          String gatewayAppId) {
    return run(
        s -> {
          Credentials me = chain.signer();
          ContractArtifact app = ContractArtifact.load("DstackApp");
          ContractArtifact kms = ContractArtifact.load("DstackKms");
          String appImpl = s.transact(me, null, app.bytecode()).getString("contractAddress");
          String ctor =
              FunctionEncoder.encodeConstructor(
                  List.of(new Address(me.getAddress()), new Address(appImpl)));
          String kmsAddr = s.transact(me, null, kms.bytecode() + ctor).getString("contractAddress");
          if (gatewayAppId != null) {
            s.transact(me, kmsAddr, encode("setGatewayAppId", new Utf8String(gatewayAppId)));
          }
          return new JsonObject()
              .put("kmsContractAddr", Addresses.checksummed(kmsAddr))
              .put("appImplementation", Addresses.checksummed(appImpl))
              .put("owner", Addresses.checksummed(me.getAddress()))
              .put("chainId", s.chainId())
              .put("compiler", kms.compiler());
        });
  }

  @Command(
      name = "deploy-app",
      description = "Create an app contract through the KMS factory and register it.")
  int deployApp(
      @Option(names = "--kms", required = true) String kms,
      @Option(names = "--owner", description = "app owner (default: the signer)") String owner,
      @Option(names = "--compose-hash") List<String> composeHashes,
      @Option(names = "--device-id") List<String> deviceIds,
      @Option(names = "--allow-any-device") boolean anyDevice,
      @Option(names = "--require-tcb-up-to-date") boolean requireTcb) {
    return run(
        s -> {
          Credentials me = chain.signer();
          List<String> hashes = list(composeHashes);
          List<String> devices = list(deviceIds);
          String data =
              encode(
                  "deployAndRegisterApp",
                  new Address(owner != null ? address(owner) : me.getAddress()),
                  new Bool(false),
                  new Bool(requireTcb),
                  new Bool(anyDevice),
                  bytes32(devices.isEmpty() ? "0" : devices.get(0)),
                  bytes32(hashes.isEmpty() ? "0" : hashes.get(0)));
          JsonObject receipt = s.transact(me, address(kms), data);
          String appId = deployedApp(receipt);
          for (String h : hashes.subList(Math.min(1, hashes.size()), hashes.size())) {
            s.transact(me, appId, encode("addComposeHash", bytes32(h)));
          }
          for (String d : devices.subList(Math.min(1, devices.size()), devices.size())) {
            s.transact(me, appId, encode("addDevice", bytes32(d)));
          }
          return new JsonObject().put("appId", Addresses.checksummed(appId));
        });
  }

  @Command(
      name = "allow-app",
      description = "Allow compose hashes and/or devices on an app contract.")
  int allowApp(
      @Option(names = "--app", required = true) String app,
      @Option(names = "--compose-hash") List<String> hashes,
      @Option(names = "--device-id") List<String> devices) {
    return edits(app, List.of(new Edit("addComposeHash", hashes), new Edit("addDevice", devices)));
  }

  @Command(
      name = "revoke-app",
      description = "Remove compose hashes and/or devices from an app contract.")
  int revokeApp(
      @Option(names = "--app", required = true) String app,
      @Option(names = "--compose-hash") List<String> hashes,
      @Option(names = "--device-id") List<String> devices) {
    return edits(
        app, List.of(new Edit("removeComposeHash", hashes), new Edit("removeDevice", devices)));
  }

  @Command(name = "allow-kms", description = "Allow KMS aggregated MRs and/or KMS devices.")
  int allowKms(
      @Option(names = "--kms", required = true) String kms,
      @Option(names = "--mr") List<String> mrs,
      @Option(names = "--device-id") List<String> devices) {
    return edits(
        kms, List.of(new Edit("addKmsAggregatedMr", mrs), new Edit("addKmsDevice", devices)));
  }

  @Command(name = "revoke-kms", description = "Remove KMS aggregated MRs and/or KMS devices.")
  int revokeKms(
      @Option(names = "--kms", required = true) String kms,
      @Option(names = "--mr") List<String> mrs,
      @Option(names = "--device-id") List<String> devices) {
    return edits(
        kms, List.of(new Edit("removeKmsAggregatedMr", mrs), new Edit("removeKmsDevice", devices)));
  }

  @Command(name = "allow-os-image", description = "Allow OS image hashes (apps and KMS).")
  int allowOsImage(
      @Option(names = "--kms", required = true) String kms,
      @Option(names = "--hash", required = true) List<String> hashes) {
    return edits(kms, List.of(new Edit("addOsImageHash", hashes)));
  }

  @Command(name = "revoke-os-image", description = "Remove OS image hashes.")
  int revokeOsImage(
      @Option(names = "--kms", required = true) String kms,
      @Option(names = "--hash", required = true) List<String> hashes) {
    return edits(kms, List.of(new Edit("removeOsImageHash", hashes)));
  }

  @Command(name = "register-app", description = "Register an existing app contract with the KMS.")
  int registerApp(
      @Option(names = "--kms", required = true) String kms,
      @Option(names = "--app", required = true) String app) {
    return run(
        s -> {
          s.transact(
              chain.signer(), address(kms), encode("registerApp", new Address(address(app))));
          return new JsonObject().put("registered", Addresses.checksummed(address(app)));
        });
  }

  @Command(name = "set-gateway-app-id", description = "Set the gateway app id on the KMS contract.")
  int setGateway(
      @Option(names = "--kms", required = true) String kms,
      @Option(names = "--id", required = true) String id) {
    return run(
        s -> {
          s.transact(chain.signer(), address(kms), encode("setGatewayAppId", new Utf8String(id)));
          return new JsonObject().put("gatewayAppId", id);
        });
  }

  @Command(
      name = "info",
      description = "Read gatewayAppId, appImplementation and owner of a KMS contract.")
  int info(@Option(names = "--kms", required = true) String kms) {
    return run(
        s -> {
          String k = address(kms);
          return new JsonObject()
              .put("kmsContractAddr", Addresses.checksummed(k))
              .put("chainId", s.chainId())
              .put(
                  "gatewayAppId",
                  (String) read(s, k, "gatewayAppId", new TypeReference<Utf8String>() {}))
              .put(
                  "appImplementation",
                  Addresses.checksummed(
                      (String) read(s, k, "appImplementation", new TypeReference<Address>() {})))
              .put(
                  "owner",
                  Addresses.checksummed(
                      (String) read(s, k, "owner", new TypeReference<Address>() {})));
        });
  }

  private record Edit(String function, List<String> values) {}

  private int edits(String contract, List<Edit> edits) {
    return run(
        s -> {
          Credentials me = chain.signer();
          JsonArray done = new JsonArray();
          for (Edit e : edits) {
            for (String v : list(e.values())) {
              s.transact(me, address(contract), encode(e.function(), bytes32(v)));
              done.add(
                  new JsonObject()
                      .put("call", e.function())
                      .put("value", Numeric.toHexString(bytes32(v).getValue())));
            }
          }
          if (done.isEmpty()) {
            throw new CliException("nothing to do: give at least one value");
          }
          return new JsonObject()
              .put("contract", Addresses.checksummed(address(contract)))
              .put("applied", done);
        });
  }

  private interface Action {
    JsonObject apply(ChainSession session);
  }

  private int run(Action action) {
    try (ChainSession s = new ChainSession(chain.endpoint())) {
      System.out.println(action.apply(s).encode());
      return 0;
    } catch (CliException | dev.cvmkms.autheth.config.ConfigException e) {
      System.err.println("error: " + e.getMessage());
      return 1;
    }
  }

  private static Object read(ChainSession s, String to, String name, TypeReference<?> out) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    Function f = new Function(name, List.of(), (List) List.of(out));
    List<?> r = // web3j returns a raw List<Type>
        FunctionReturnDecoder.decode(
            s.ethCall(to, FunctionEncoder.encode(f)), f.getOutputParameters());
    if (r.isEmpty()) {
      throw new CliException(name + "() returned no data: is this a DstackKms contract?");
    }
    return ((Type<?>) r.get(0)).getValue();
  }

  private static String encode(String name, Type<?>... args) {
    return FunctionEncoder.encode(new Function(name, List.of(args), List.of()));
  }

  /** The app address from the factory's AppDeployedViaFactory(address indexed, address indexed). */
  private static String deployedApp(JsonObject receipt) {
    String topic =
        Numeric.toHexString(
            Hash.sha3("AppDeployedViaFactory(address,address)".getBytes(StandardCharsets.UTF_8)));
    for (Object o : receipt.getJsonArray("logs", new JsonArray())) {
      JsonObject log = (JsonObject) o;
      JsonArray topics = log.getJsonArray("topics");
      if (topics != null && topics.size() > 1 && topic.equalsIgnoreCase(topics.getString(0))) {
        return "0x" + topics.getString(1).substring(26);
      }
    }
    throw new CliException("no AppDeployedViaFactory event in the receipt");
  }

  private static String address(String text) {
    return Addresses.parse(text).orElseThrow(() -> new CliException("not an address: " + text));
  }

  /** Hex of at most 32 bytes, left-padded like the webhook does. */
  static Bytes32 bytes32(String text) {
    String bare = text.startsWith("0x") ? text.substring(2) : text;
    if (!bare.matches("[0-9a-fA-F]{0,64}")) {
      throw new CliException("not hex of at most 32 bytes: " + text);
    }
    return new Bytes32(Numeric.hexStringToByteArray("0".repeat(64 - bare.length()) + bare));
  }

  private static List<String> list(List<String> l) {
    return l == null ? List.of() : new ArrayList<>(l);
  }
}
