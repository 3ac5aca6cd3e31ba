package dev.cvmkms.kms.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.cvmkms.kms.KmsException;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads a GET query string into a message the way serde_qs does for pRPC: {@code a=1&b=x},
 * form-URL-decoded, each value typed by its field; {@code m[f]=v} for nested messages and {@code
 * r[0]=v} or {@code r[]=v} for repeated fields. Unknown keys (such as {@code json}) are ignored.
 */
final class PrpcQueryReader {
  private static final Pattern KEY = Pattern.compile("[^\\[\\]]*(\\[[^\\[\\]]*\\])*");
  private static final Pattern UNSIGNED = Pattern.compile("[0-9]{1,30}");
  private static final Pattern SIGNED = Pattern.compile("-?[0-9]{1,30}");

  private PrpcQueryReader() {}

  static Message read(@Nullable String rawQuery, Message defaultInstance) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return defaultInstance;
    }
    Map<String, Object> tree = new LinkedHashMap<>();
    for (String pair : rawQuery.split("&", -1)) { // empty pairs, trailing or not, are skipped
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = urlDecode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : urlDecode(pair.substring(eq + 1));
      insert(tree, key, value);
    }
    Message.Builder builder = defaultInstance.newBuilderForType();
    fill(builder, tree, "");
    return builder.build();
  }

  private static String urlDecode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw KmsException.invalid("invalid query string: bad percent-encoding");
    }
  }

  /** Splits {@code a[b][]} into {@code a, b, ""}; keys of another shape cannot name a field. */
  private static void insert(Map<String, Object> tree, String key, String value) {
    if (!KEY.matcher(key).matches()) {
      return;
    }
    List<String> segments = new ArrayList<>();
    int open = key.indexOf('[');
    segments.add(open < 0 ? key : key.substring(0, open));
    while (open >= 0) {
      int close = key.indexOf(']', open);
      segments.add(key.substring(open + 1, close));
      open = key.indexOf('[', close);
    }
    if (segments.size() > PrpcJsonReader.MAX_DEPTH) {
      throw KmsException.invalid("invalid query string: key nested too deeply");
    }
    Object node = tree;
    for (int i = 0; i < segments.size(); i++) {
      boolean last = i == segments.size() - 1;
      Object fresh;
      if (last) {
        fresh = value;
      } else if (segments.get(i + 1).isEmpty()) {
        fresh = new ArrayList<Object>(); // the next segment is "[]": a list of appended values
      } else {
        fresh = new LinkedHashMap<String, Object>();
      }
      node = child(node, segments.get(i), fresh, last, key);
    }
  }

  @SuppressWarnings("unchecked")
  private static Object child(Object node, String segment, Object fresh, boolean last, String key) {
    if (node instanceof List<?> list) {
      if (!segment.isEmpty()) {
        throw KmsException.invalid("invalid query string: conflicting keys at " + key);
      }
      ((List<Object>) list).add(fresh);
      return fresh;
    }
    if (!(node instanceof Map<?, ?>)) {
      throw KmsException.invalid("invalid query string: conflicting keys at " + key);
    }
    Map<String, Object> map = (Map<String, Object>) node;
    if (last) {
      map.put(segment, fresh); // a repeated plain key: the last value wins
      return fresh;
    }
    Object existing = map.computeIfAbsent(segment, s -> fresh);
    if (existing.getClass() != fresh.getClass()) {
      throw KmsException.invalid("invalid query string: conflicting keys at " + key);
    }
    return existing;
  }

  @SuppressWarnings("unchecked")
  private static void fill(Message.Builder builder, Map<String, Object> node, String path) {
    for (Map.Entry<String, Object> entry : node.entrySet()) {
      FieldDescriptor field = builder.getDescriptorForType().findFieldByName(entry.getKey());
      if (field == null || field.isMapField()) {
        continue;
      }
      String fieldPath = path + field.getName();
      Object value = entry.getValue();
      if (field.isRepeated()) {
        List<Object> elements = elements(value, fieldPath);
        for (int i = 0; i < elements.size(); i++) {
          builder.addRepeatedField(
              field, single(builder, field, elements.get(i), fieldPath + "[" + i + "]"));
        }
      } else {
        builder.setField(field, single(builder, field, value, fieldPath));
      }
    }
  }

  /** The elements of a repeated field: {@code r[]=..}, {@code r[0]=..} or a plain {@code r=..}. */
  @SuppressWarnings("unchecked")
  private static List<Object> elements(Object value, String path) {
    if (value instanceof String) {
      return List.of(value);
    }
    if (value instanceof List<?> list) {
      return (List<Object>) list;
    }
    Map<String, Object> byIndex = (Map<String, Object>) value;
    TreeMap<Integer, Object> sorted = new TreeMap<>();
    for (Map.Entry<String, Object> e : byIndex.entrySet()) {
      if (!UNSIGNED.matcher(e.getKey()).matches() || e.getKey().length() > 6) {
        throw KmsException.invalid("invalid query string: bad index in " + path);
      }
      sorted.put(Integer.parseInt(e.getKey()), e.getValue());
    }
    return new ArrayList<>(sorted.values());
  }

  @SuppressWarnings("unchecked")
  private static Object single(
      Message.Builder parent, FieldDescriptor field, Object value, String path) {
    if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      if (!(value instanceof Map<?, ?>)) {
        throw KmsException.invalid("invalid query string: field " + path + " is a message");
      }
      Message.Builder child = parent.newBuilderForField(field);
      fill(child, (Map<String, Object>) value, path + ".");
      return child.build();
    }
    if (!(value instanceof String text)) {
      throw KmsException.invalid("invalid query string: field " + path + " takes one value");
    }
    return scalar(field, text, path);
  }

  private static Object scalar(FieldDescriptor field, String text, String path) {
    return switch (field.getType()) {
      case STRING -> text;
      case BYTES -> ByteString.copyFrom(Hex.decode(text, path));
      case BOOL ->
          switch (text) {
            case "true" -> true;
            case "false" -> false;
            default -> throw bad(path, "a boolean");
          };
      case FLOAT, DOUBLE -> {
        double d;
        try {
          d = Double.parseDouble(text);
        } catch (NumberFormatException e) {
          throw bad(path, "a number");
        }
        yield field.getType() == FieldDescriptor.Type.FLOAT ? (Object) (float) d : (Object) d;
      }
      case UINT32, FIXED32, UINT64, FIXED64 -> {
        if (!UNSIGNED.matcher(text).matches()) {
          throw bad(path, "an unsigned integer");
        }
        yield PrpcJsonReader.integer(field, new BigInteger(text), path);
      }
      default -> {
        if (!SIGNED.matcher(text).matches()) {
          throw bad(path, "an integer");
        }
        yield PrpcJsonReader.integer(field, new BigInteger(text), path);
      }
    };
  }

  private static KmsException bad(String path, String what) {
    return KmsException.invalid("invalid query string: field " + path + ": expected " + what);
  }
}
