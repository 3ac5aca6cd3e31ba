package dev.cvmkms.kms.auth;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cvmkms.kms.attestation.BootInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.Optional;

/**
 * The webhook's wire format (spec kms-protocol §7.2, §7.3). Encoding is byte-exact with dstack
 * (camelCase keys in its serialisation order); decoding is strict: every required key present with
 * the right JSON type, no duplicate keys, nothing after the document. Unknown keys are ignored, as
 * dstack does.
 */
final class WebhookJson {
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final ObjectMapper STRICT =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();
  private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private WebhookJson() {}

  /** The POST body for {@code /bootAuth/app|kms}: keys in dstack's order, no whitespace. */
  static byte[] encode(BootInfo b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("teeVariant", b.teeVariant());
      g.writeStringField("mrAggregated", b.mrAggregated());
      g.writeStringField("osImageHash", b.osImageHash());
      g.writeStringField("mrSystem", b.mrSystem());
      g.writeStringField("appId", b.appId());
      g.writeStringField("composeHash", b.composeHash());
      g.writeStringField("instanceId", b.instanceId());
      g.writeStringField("deviceId", b.deviceId());
      g.writeStringField("keyProviderInfo", b.keyProviderInfo());
      g.writeStringField("tcbStatus", b.tcbStatus());
      g.writeArrayFieldStart("advisoryIds");
      for (String id : b.advisoryIds()) {
        g.writeString(id);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in-memory; cannot happen
    }
    return out.toByteArray();
  }

  /** {@code {"isAllowed": bool, "gatewayAppId": string, "reason": string}}, all required. */
  static BootDecision decodeDecision(byte[] body) throws DecodeError {
    JsonNode root = parseObject(body);
    JsonNode allowed = required(root, "isAllowed");
    if (!allowed.isBoolean()) {
      throw new DecodeError("key \"isAllowed\" must be a boolean");
    }
    String gatewayAppId = text(root, "gatewayAppId");
    String reason = text(root, "reason");
    return new BootDecision(allowed.booleanValue(), reason, gatewayAppId);
  }

  /** {@code GET <url>}: status, kmsContractAddr, gatewayAppId, chainId (u64), appImplementation. */
  static AuthInfo decodeInfo(byte[] body) throws DecodeError {
    JsonNode root = parseObject(body);
    text(root, "status"); // required by dstack, value not checked
    String contract = text(root, "kmsContractAddr");
    String gateway = text(root, "gatewayAppId");
    long chainId = u64(root, "chainId");
    String impl = text(root, "appImplementation");
    String rpc = "";
    JsonNode rpcNode = root.get("ethRpcUrl");
    if (rpcNode != null) {
      if (!rpcNode.isTextual()) {
        throw new DecodeError("key \"ethRpcUrl\" must be a string");
      }
      rpc = rpcNode.textValue();
    }
    return new AuthInfo(
        false,
        Optional.of(gateway),
        Optional.of(contract),
        Optional.of(chainId),
        Optional.of(impl),
        rpc.isEmpty() ? Optional.empty() : Optional.of(rpc));
  }

  private static JsonNode parseObject(byte[] body) throws DecodeError {
    JsonNode root;
    try (JsonParser p = STRICT.createParser(body)) {
      root = STRICT.readTree(p);
    } catch (IOException e) {
      // Jackson's message quotes the input; the body may hold secrets, so give only the kind.
      throw new DecodeError("body is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw new DecodeError("body is not a JSON object");
    }
    return root;
  }

  private static JsonNode required(JsonNode root, String key) throws DecodeError {
    JsonNode v = root.get(key);
    if (v == null) {
      throw new DecodeError("missing key \"" + key + "\"");
    }
    return v;
  }

  private static String text(JsonNode root, String key) throws DecodeError {
    JsonNode v = required(root, key);
    if (!v.isTextual()) {
      throw new DecodeError("key \"" + key + "\" must be a string");
    }
    return v.textValue();
  }

  /** A JSON integer in 0..2^64-1 (serde's u64); values above Long.MAX_VALUE are refused. */
  private static long u64(JsonNode root, String key) throws DecodeError {
    JsonNode v = required(root, key);
    if (!v.isIntegralNumber()) {
      throw new DecodeError("key \"" + key + "\" must be an unsigned integer");
    }
    BigInteger n = v.bigIntegerValue();
    if (n.signum() < 0 || n.compareTo(U64_MAX) > 0) {
      throw new DecodeError("key \"" + key + "\" is out of the u64 range");
    }
    if (n.bitLength() > 63) {
      throw new DecodeError("key \"" + key + "\" is too large");
    }
    return n.longValue();
  }

  /** A response that does not match the contract; the message never quotes the body. */
  static final class DecodeError extends Exception {
    private static final long serialVersionUID = 1L;

    DecodeError(String message) {
      super(message, null, false, false);
    }
  }
}
