package dev.cvmkms.kms.rpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.cvmkms.kms.KmsException;
import java.io.IOException;
import java.math.BigInteger;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads pRPC JSON into a message, typed by the message's descriptor. Lenient where serde's {@code
 * #[serde(default)]} is (missing and unknown keys, {@code null} values), strict where serde is
 * (types, integer ranges, hex, duplicate keys, trailing data).
 */
final class PrpcJsonReader {
  /** Deep enough for any pRPC message; shallow enough that hostile nesting cannot hurt. */
  static final int MAX_DEPTH = 32;

  /** One string value: a hex attestation with a long event log stays far below. */
  static final int MAX_STRING_LENGTH = 1 << 20;

  /** Digits of one number: a uint64 has 20. */
  static final int MAX_NUMBER_LENGTH = 64;

  /** Checked by the parser as it reads, before a value is materialised. */
  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_DEPTH)
                  .maxStringLength(MAX_STRING_LENGTH)
                  .maxNumberLength(MAX_NUMBER_LENGTH)
                  .maxNameLength(1024)
                  .build())
          .build();

  private static final BigInteger TWO_32 = BigInteger.ONE.shiftLeft(32);
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
  private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
  private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  private final JsonParser parser;

  private PrpcJsonReader(JsonParser parser) {
    this.parser = parser;
  }

  static Message read(byte[] json, Message defaultInstance) {
    if (isBlank(json)) {
      return defaultInstance;
    }
    try (JsonParser parser = FACTORY.createParser(json)) {
      PrpcJsonReader reader = new PrpcJsonReader(parser);
      JsonToken first = parser.nextToken();
      Message result;
      if (first == JsonToken.VALUE_NULL) {
        result = defaultInstance;
      } else if (first == JsonToken.START_OBJECT) {
        Message.Builder builder = defaultInstance.newBuilderForType();
        reader.object(builder, "");
        result = builder.build();
      } else {
        throw KmsException.invalid("invalid JSON request: expected an object or null");
      }
      if (parser.nextToken() != null) {
        throw KmsException.invalid("invalid JSON request: trailing characters after the value");
      }
      return result;
    } catch (StreamConstraintsException e) {
      throw KmsException.invalid("invalid JSON request: " + limitExceeded(e));
    } catch (JsonProcessingException e) {
      // Jackson's own text names its internals and suggests settings; say what is wrong instead.
      JsonLocation at = e.getLocation();
      throw KmsException.invalid(
          "invalid JSON request: malformed JSON"
              + (at == null ? "" : " at line " + at.getLineNr() + " column " + at.getColumnNr()));
    } catch (IOException e) {
      throw KmsException.invalid("invalid JSON request: malformed JSON");
    }
  }

  private static String limitExceeded(StreamConstraintsException e) {
    String m = String.valueOf(e.getOriginalMessage()).toLowerCase(java.util.Locale.ROOT);
    if (m.contains("nesting")) {
      return "nested deeper than " + MAX_DEPTH + " levels";
    }
    if (m.contains("number")) {
      return "a number longer than " + MAX_NUMBER_LENGTH + " characters";
    }
    if (m.contains("name")) {
      return "a field name longer than 1024 characters";
    }
    return "a string longer than " + MAX_STRING_LENGTH + " characters";
  }

  private static boolean isBlank(byte[] json) {
    for (byte b : json) {
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /** Reads the members of an object whose START_OBJECT was just consumed. */
  private void object(Message.Builder builder, String path) throws IOException {
    Set<String> seen = new HashSet<>();
    for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
      String name = parser.currentName();
      FieldDescriptor field = builder.getDescriptorForType().findFieldByName(name);
      JsonToken value = parser.nextToken();
      if (field == null || field.isMapField()) {
        parser.skipChildren(); // unknown keys are ignored, as with serde's default
        continue;
      }
      String fieldPath = path + field.getName();
      if (!seen.add(name)) {
        throw KmsException.invalid("invalid JSON request: duplicate field " + fieldPath);
      }
      if (value == JsonToken.VALUE_NULL) {
        continue; // absent: the default (or unset optional)
      }
      if (field.isRepeated()) {
        expect(value == JsonToken.START_ARRAY, fieldPath, "an array");
        int index = 0;
        for (JsonToken e = parser.nextToken(); e != JsonToken.END_ARRAY; e = parser.nextToken()) {
          String elementPath = fieldPath + "[" + index++ + "]";
          expect(e != JsonToken.VALUE_NULL, elementPath, "a value, not null");
          builder.addRepeatedField(field, value(builder, field, e, elementPath));
        }
      } else {
        builder.setField(field, value(builder, field, value, fieldPath));
      }
    }
  }

  private Object value(Message.Builder parent, FieldDescriptor field, JsonToken t, String path)
      throws IOException {
    return switch (field.getType()) {
      case BOOL -> {
        expect(t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE, path, "a boolean");
        yield t == JsonToken.VALUE_TRUE;
      }
      case STRING -> {
        expect(t == JsonToken.VALUE_STRING, path, "a string");
        yield parser.getText();
      }
      case BYTES -> {
        expect(t == JsonToken.VALUE_STRING, path, "a hex string");
        yield ByteString.copyFrom(Hex.decode(parser.getText(), path));
      }
      case FLOAT, DOUBLE -> {
        expect(
            t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT, path, "a number");
        double d = parser.getDoubleValue();
        yield field.getType() == FieldDescriptor.Type.FLOAT ? (Object) (float) d : (Object) d;
      }
      case MESSAGE, GROUP -> {
        expect(t == JsonToken.START_OBJECT, path, "an object");
        Message.Builder child = parent.newBuilderForField(field);
        object(child, path + ".");
        yield child.build();
      }
      default -> { // the integer types and enums
        expect(t == JsonToken.VALUE_NUMBER_INT, path, "an integer");
        yield integer(field, parser.getBigIntegerValue(), path);
      }
    };
  }

  /** Range-checks an integer for the field's proto type and boxes it as protobuf-java expects. */
  static Object integer(FieldDescriptor field, BigInteger v, String path) {
    return switch (field.getType()) {
      case UINT32, FIXED32 -> (int) inRange(v, BigInteger.ZERO, TWO_32, path).longValue();
      case UINT64, FIXED64 -> inRange(v, BigInteger.ZERO, TWO_64, path).longValue();
      case INT32, SINT32, SFIXED32 ->
          inRange(v, INT_MIN, INT_MAX.add(BigInteger.ONE), path).intValue();
      case INT64, SINT64, SFIXED64 ->
          inRange(v, LONG_MIN, LONG_MAX.add(BigInteger.ONE), path).longValue();
      case ENUM ->
          field
              .getEnumType()
              .findValueByNumberCreatingIfUnknown(
                  inRange(v, INT_MIN, INT_MAX.add(BigInteger.ONE), path).intValue());
      default -> throw new IllegalArgumentException("not an integer field: " + field);
    };
  }

  /** Checks {@code min <= v < maxExclusive}. */
  private static BigInteger inRange(
      BigInteger v, BigInteger min, BigInteger maxExclusive, String path) {
    if (v.compareTo(min) < 0 || v.compareTo(maxExclusive) >= 0) {
      throw KmsException.invalid("invalid request: field " + path + ": integer out of range");
    }
    return v;
  }

  private static void expect(boolean ok, String path, String what) {
    if (!ok) {
      throw KmsException.invalid("invalid JSON request: field " + path + ": expected " + what);
    }
  }
}
