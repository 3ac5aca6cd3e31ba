package dev.cvmkms.kms.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.HexFormat;
import java.util.List;

/**
 * Writes a message as compact pRPC JSON, character for character what serde_json produces for the
 * prost types dstack generates (key order = field order, every key present, {@code null} for absent
 * optionals and messages, serde_json's string escapes).
 */
final class PrpcJsonWriter {
  private static final HexFormat HEX = HexFormat.of();

  private final StringBuilder out = new StringBuilder(256);

  static String write(Message message) {
    PrpcJsonWriter writer = new PrpcJsonWriter();
    if (PrpcJson.isEmpty(message.getDescriptorForType())) {
      return "null"; // serde serialises Rust's () as null
    }
    writer.message(message);
    return writer.out.toString();
  }

  private void message(Message message) {
    out.append('{');
    boolean first = true;
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      if (field.isMapField()) {
        throw new IllegalArgumentException("pRPC JSON has no map fields: " + field.getFullName());
      }
      if (!first) {
        out.append(',');
      }
      first = false;
      string(field.getName());
      out.append(':');
      if (field.isRepeated()) {
        out.append('[');
        List<?> values = (List<?>) message.getField(field);
        for (int i = 0; i < values.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          value(field, values.get(i));
        }
        out.append(']');
      } else if (field.hasPresence() && !message.hasField(field)) {
        out.append("null");
      } else {
        value(field, message.getField(field));
      }
    }
    out.append('}');
  }

  private void value(FieldDescriptor field, Object value) {
    switch (field.getType()) {
      case UINT32, FIXED32 -> out.append(Integer.toUnsignedString((Integer) value));
      case UINT64, FIXED64 -> out.append(Long.toUnsignedString((Long) value));
      case INT32, SINT32, SFIXED32, INT64, SINT64, SFIXED64, BOOL -> out.append(value);
      case FLOAT -> number((Float) value, Float.toString((Float) value));
      case DOUBLE -> number((Double) value, Double.toString((Double) value));
      case STRING -> string((String) value);
      case BYTES -> {
        out.append('"');
        out.append(Hex.encode(((ByteString) value).toByteArray()));
        out.append('"');
      }
      case ENUM -> out.append(((EnumValueDescriptor) value).getNumber());
      case MESSAGE, GROUP -> message((Message) value);
    }
  }

  /** Floats are not in the KMS schema; Java's shortest form, and serde_json's null for NaN/inf. */
  private void number(double d, String text) {
    out.append(Double.isNaN(d) || Double.isInfinite(d) ? "null" : text);
  }

  /** serde_json's escaping: the two-character forms where JSON has them, else lowercase \\u00XX. */
  private void string(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(HEX.toHexDigits((byte) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** The JSON string literal for {@code s}, quotes included, as serde_json writes it. */
  static String quote(String s) {
    PrpcJsonWriter writer = new PrpcJsonWriter();
    writer.string(s);
    return writer.out.toString();
  }
}
