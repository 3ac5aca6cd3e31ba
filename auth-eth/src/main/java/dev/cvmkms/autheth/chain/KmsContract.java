package dev.cvmkms.autheth.chain;

import dev.cvmkms.autheth.chain.RpcException.Kind;
import dev.cvmkms.autheth.config.Addresses;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.DynamicStruct;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.utils.Numeric;

/** The DstackKms reads auth-eth makes, as web3j ABI calls over {@link JsonRpc}. */
public final class KmsContract {
  private final JsonRpc rpc;
  private final String address;

  /**
   * @param address lower-case 0x address of the DstackKms contract
   */
  public KmsContract(JsonRpc rpc, String address) {
    this.rpc = rpc;
    this.address = address;
  }

  /** Calldata of {@code isAppAllowed(AppBootInfo)} or {@code isKmsAllowed(AppBootInfo)}. */
  public static String encodeBootCheck(BootInfo info, boolean kms) {
    return FunctionEncoder.encode(bootFunction(info, kms));
  }

  private static Function bootFunction(BootInfo info, boolean kms) {
    List<Utf8String> advisories = info.advisoryIds().stream().map(Utf8String::new).toList();
    DynamicStruct tuple =
        new DynamicStruct(
            new Address(info.appId()),
            bytes32(info.composeHash()),
            new Address(info.instanceId()),
            bytes32(info.deviceId()),
            bytes32(info.mrAggregated()),
            bytes32(info.mrSystem()),
            bytes32(info.osImageHash()),
            new Utf8String(info.tcbStatus()),
            new DynamicArray<>(Utf8String.class, advisories));
    return new Function(
        kms ? "isKmsAllowed" : "isAppAllowed",
        List.of(tuple),
        List.of(new TypeReference<Bool>() {}, new TypeReference<Utf8String>() {}));
  }

  /** Decodes {@code (bool, string)}; undecodable data counts as a revert (fail closed). */
  public static Decision decodeDecision(String returnData) {
    List<Object> out = decode(returnData, bootFunction(emptyInfo(), false));
    return new Decision((Boolean) out.get(0), (String) out.get(1));
  }

  public Future<Decision> checkBoot(String calldata, String blockTag, Deadline deadline) {
    return ethCall(calldata, blockTag, deadline).map(KmsContract::decodeDecision);
  }

  public Future<String> gatewayAppId(Deadline deadline) {
    Function f =
        new Function("gatewayAppId", List.of(), List.of(new TypeReference<Utf8String>() {}));
    return ethCall(FunctionEncoder.encode(f), "latest", deadline)
        .map(hex -> (String) decode(hex, f).get(0));
  }

  public Future<String> appImplementation(Deadline deadline) {
    Function f =
        new Function("appImplementation", List.of(), List.of(new TypeReference<Address>() {}));
    return ethCall(FunctionEncoder.encode(f), "latest", deadline)
        .map(hex -> Addresses.checksummed((String) decode(hex, f).get(0)));
  }

  public Future<Long> chainId(Deadline deadline) {
    return rpc.call("eth_chainId", new JsonArray(), deadline).map(KmsContract::quantity);
  }

  public Future<Long> blockNumber(Deadline deadline) {
    return rpc.call("eth_blockNumber", new JsonArray(), deadline).map(KmsContract::quantity);
  }

  private Future<String> ethCall(String data, String blockTag, Deadline deadline) {
    JsonArray params =
        new JsonArray().add(new JsonObject().put("to", address).put("data", data)).add(blockTag);
    return rpc.call("eth_call", params, deadline)
        .map(
            r -> {
              if (!(r instanceof String s) || !s.startsWith("0x")) {
                throw new RpcException(Kind.BAD_RESPONSE, "eth_call result is not hex data");
              }
              return s;
            });
  }

  /** The decoded outputs' values, in order. */
  private static List<Object> decode(String hex, Function f) {
    List<?> out; // web3j returns a raw List<Type>

    try {
      out = FunctionReturnDecoder.decode(hex, f.getOutputParameters());
    } catch (RuntimeException e) {
      throw new RpcException(Kind.REVERTED, "return data does not decode");
    }
    if (out.size() != f.getOutputParameters().size()) {
      // Empty data ("0x"): no contract at the address, or a function it does not have.
      throw new RpcException(Kind.REVERTED, "no return data");
    }
    return out.stream().map(t -> (Object) ((Type<?>) t).getValue()).toList();
  }

  static long quantity(Object result) {
    if (!(result instanceof String s) || !s.startsWith("0x") || s.length() < 3 || s.length() > 18) {
      throw new RpcException(Kind.BAD_RESPONSE, "result is not a hex quantity");
    }
    try {
      BigInteger v = Numeric.decodeQuantity(s);
      return v.longValueExact();
    } catch (RuntimeException e) {
      throw new RpcException(Kind.BAD_RESPONSE, "result is not a hex quantity");
    }
  }

  /** Block tag for reads N blocks behind {@code head}. */
  public static String blockTag(long head, int confirmations) {
    return Numeric.encodeQuantity(BigInteger.valueOf(Math.max(0, head - confirmations)));
  }

  private static Bytes32 bytes32(String hex) {
    return new Bytes32(Numeric.hexStringToByteArray(hex));
  }

  private static BootInfo emptyInfo() {
    String z20 = "0x" + "0".repeat(40);
    String z32 = "0x" + "0".repeat(64);
    return new BootInfo(z20, z32, z20, z32, z32, z32, z32, "", List.of());
  }
}
