package dev.cvmkms.kms.rpc;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import dev.cvmkms.kms.KmsException;
import java.nio.charset.StandardCharsets;

/**
 * pRPC JSON for any protobuf message, driven by its descriptor (dstack's prost + serde encoding;
 * spec kms-protocol §2.3). protobuf-java's {@code JsonFormat} is a different dialect (camelCase,
 * base64, quoted 64-bit integers, skipped defaults) and must not be used on the wire.
 *
 * <ul>
 *   <li>Keys are the proto field names (snake_case) in field order; every key is present; output is
 *       compact.
 *   <li>{@code bytes} is lowercase hex without {@code 0x}; on input any case, with leading {@code
 *       0x}es stripped. {@code repeated bytes} is an array of hex strings.
 *   <li>Integers are JSON numbers ({@code uint64} with unsigned range), {@code bool} a boolean,
 *       strings strings, repeated fields arrays, nested messages objects. Enums are numbers.
 *   <li>Absent proto3 {@code optional} scalars and absent nested messages are {@code null}.
 *   <li>Input: missing keys take defaults, unknown keys and {@code null} values are ignored; {@code
 *       null}, {@code {}} or an empty payload give the default message.
 *   <li>{@code google.protobuf.Empty} encodes as {@code null}, and decoding it ignores the payload.
 * </ul>
 *
 * Map fields are not part of pRPC and are rejected on output (ignored on input). Decode failures
 * throw {@link KmsException} of kind {@code INVALID_REQUEST} whose message names the field. All
 * methods are thread-safe.
 */
public final class PrpcJson {
  private PrpcJson() {}

  /** Encodes {@code message} as compact pRPC JSON (UTF-8). */
  public static byte[] encode(Message message) {
    return PrpcJsonWriter.write(message).getBytes(StandardCharsets.UTF_8);
  }

  /** {@link #encode} as a string (for CLI output and tests). */
  public static String encodeToString(Message message) {
    return PrpcJsonWriter.write(message);
  }

  /**
   * Decodes a pRPC JSON request body.
   *
   * @param json the payload; empty (or whitespace) and {@code null} give the default message
   * @param defaultInstance the message type's default instance, e.g. {@code
   *     AppId.getDefaultInstance()}
   * @throws KmsException (INVALID_REQUEST) on malformed JSON, wrong types, bad hex or out-of-range
   *     integers; the message names the field
   */
  @SuppressWarnings("unchecked")
  public static <T extends Message> T decode(byte[] json, T defaultInstance) {
    if (isEmpty(defaultInstance.getDescriptorForType())) {
      return defaultInstance;
    }
    return (T) PrpcJsonReader.read(json, defaultInstance);
  }

  /**
   * Decodes a GET request's raw (still URL-encoded) query string, serde_qs style: {@code
   * app_id=0x11..&api_version=1}; values are typed by their field, {@code m[f]=v} reaches nested
   * messages and {@code r[]=v} / {@code r[0]=v} repeated fields. Unknown keys such as {@code json}
   * are ignored; a {@code null} or empty query gives the default message.
   *
   * @throws KmsException (INVALID_REQUEST) on bad percent-encoding or a value that does not fit its
   *     field
   */
  @SuppressWarnings("unchecked")
  public static <T extends Message> T decodeQuery(String rawQuery, T defaultInstance) {
    if (isEmpty(defaultInstance.getDescriptorForType())) {
      return defaultInstance;
    }
    return (T) PrpcQueryReader.read(rawQuery, defaultInstance);
  }

  /** True for {@code google.protobuf.Empty}, whose requests ignore the payload. */
  static boolean isEmpty(Descriptor descriptor) {
    return descriptor.getFullName().equals(Empty.getDescriptor().getFullName());
  }
}
