package dev.cvmkms.kms.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A reader over one TOML table that knows its dotted path. Each typed getter marks its key as
 * known, takes a {@code KMS__...} override in preference to the file, and reports type errors by
 * full key; {@link #finish()} then rejects the keys nobody asked for. So the getters are the
 * schema: the same code decides which file keys and which environment variables exist.
 */
final class ConfigTable {
  private final String path;
  private final ObjectNode node; // null when the table is absent from the file
  private final EnvOverrides env;
  private final List<String> ignored;
  private final Set<String> schema; // every value key read so far, by dotted path
  private final Set<String> known = new HashSet<>();

  private ConfigTable(
      String path, ObjectNode node, EnvOverrides env, List<String> ignored, Set<String> schema) {
    this.path = path;
    this.node = node;
    this.env = env;
    this.ignored = ignored;
    this.schema = schema;
  }

  /**
   * @param ignored collects the dotted paths of present keys that are accepted but unused
   * @param schema collects the dotted path of every value key the getters ask for
   */
  static ConfigTable root(
      ObjectNode node, EnvOverrides env, List<String> ignored, Set<String> schema) {
    return new ConfigTable("", node, env, ignored, schema);
  }

  String keyOf(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** A sub-table; absent tables read as empty, so every key falls back to its default. */
  ConfigTable table(String key) {
    known.add(key);
    JsonNode n = node == null ? null : node.get(key);
    if (n != null && !n.isObject()) {
      throw new ConfigException(keyOf(key), keyOf(key) + " must be a table, got " + describe(n));
    }
    return new ConfigTable(keyOf(key), (ObjectNode) n, env, ignored, schema);
  }

  String string(String key, String def) {
    Raw r = raw(key);
    if (r == null) return def;
    if (r.env != null) return r.env.value();
    if (!r.node.isTextual()) throw wrongType(key, r, "a string");
    return r.node.textValue();
  }

  Optional<String> optionalString(String key) {
    return Optional.ofNullable(string(key, null));
  }

  boolean bool(String key, boolean def) {
    Raw r = raw(key);
    if (r == null) return def;
    if (r.env != null) {
      String v = r.env.value().strip().toLowerCase(Locale.ROOT);
      if (v.equals("true")) return true;
      if (v.equals("false")) return false;
      throw wrongType(key, r, "true or false");
    }
    if (!r.node.isBoolean()) throw wrongType(key, r, "true or false");
    return r.node.booleanValue();
  }

  int integer(String key, int def) {
    Raw r = raw(key);
    if (r == null) return def;
    if (r.env != null) {
      try {
        return Integer.parseInt(r.env.value().strip());
      } catch (NumberFormatException e) {
        throw wrongType(key, r, "an integer");
      }
    }
    if (!r.node.isIntegralNumber()) throw wrongType(key, r, "an integer");
    if (!r.node.canConvertToInt()) {
      throw new ConfigException(keyOf(key), keyOf(key) + " is out of range: " + r.node.asText());
    }
    return r.node.intValue();
  }

  /** An integer, or null when absent. */
  Integer optionalInteger(String key) {
    Raw r = raw(key);
    return r == null ? null : integer(key, 0);
  }

  /**
   * An array of strings; from the environment a comma-separated list ({@code "a,b"}, empty for
   * none).
   */
  List<String> stringList(String key, List<String> def) {
    Raw r = raw(key);
    if (r == null) return def;
    List<String> out = new java.util.ArrayList<>();
    if (r.env != null) {
      for (String part : r.env.value().split(",", -1)) {
        if (!part.isBlank()) out.add(part.strip());
      }
      return List.copyOf(out);
    }
    if (!r.node.isArray()) throw wrongType(key, r, "an array of strings");
    for (JsonNode item : r.node) {
      if (!item.isTextual()) throw wrongType(key, r, "an array of strings");
      out.add(item.textValue());
    }
    return List.copyOf(out);
  }

  /** A size in bytes: an integer, or a string such as {@code "64KiB"}; null when absent. */
  Long bytes(String key, Long def) {
    Raw r = raw(key);
    if (r == null) return def;
    String text;
    if (r.env != null) {
      text = r.env.value();
    } else if (r.node.isIntegralNumber()) {
      if (!r.node.canConvertToLong()) {
        throw new ConfigException(keyOf(key), keyOf(key) + " is out of range: " + r.node.asText());
      }
      return r.node.longValue();
    } else if (r.node.isTextual()) {
      text = r.node.textValue();
    } else {
      throw wrongType(key, r, "a size such as 65536 or \"64KiB\"");
    }
    try {
      return ByteSizes.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(keyOf(key), label(key, r) + " " + e.getMessage(), e);
    }
  }

  /** A duration string such as {@code "30s"}; bare numbers are refused (which unit?). */
  Duration duration(String key, Duration def) {
    Raw r = raw(key);
    if (r == null) return def;
    String text;
    if (r.env != null) {
      text = r.env.value();
    } else if (r.node.isTextual()) {
      text = r.node.textValue();
    } else {
      throw wrongType(key, r, "a duration string such as \"30s\"");
    }
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(keyOf(key), label(key, r) + " " + e.getMessage(), e);
    }
  }

  /** A path; the empty string means "not set". */
  Optional<Path> optionalPath(String key) {
    String s = string(key, "");
    return s.isBlank() ? Optional.empty() : Optional.of(Path.of(s.strip()));
  }

  Path path(String key, Path def) {
    return optionalPath(key).orElse(def);
  }

  /** Keys read by dstack but without effect here: accepted, and reported if present. */
  void ignore(String... keys) {
    for (String key : keys) {
      known.add(key);
      if (node != null && node.has(key)) {
        ignored.add(keyOf(key));
      }
    }
  }

  /** Rejects keys in this table that no getter asked for. */
  void finish() {
    if (node == null) return;
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!known.contains(key)) {
        throw new ConfigException(keyOf(key), "unknown key " + keyOf(key));
      }
    }
  }

  private record Raw(JsonNode node, EnvOverrides.Var env) {}

  private Raw raw(String key) {
    known.add(key);
    schema.add(keyOf(key));
    EnvOverrides.Var v = env.take(keyOf(key));
    if (v != null) return new Raw(null, v);
    JsonNode n = node == null ? null : node.get(key);
    if (n == null) return null;
    if (n.isObject()) {
      throw new ConfigException(keyOf(key), keyOf(key) + " must be a value, got a table");
    }
    return new Raw(n, null);
  }

  private String label(String key, Raw r) {
    return r.env != null ? keyOf(key) + " (from " + r.env.name() + ")" : keyOf(key);
  }

  private ConfigException wrongType(String key, Raw r, String expected) {
    String got = r.env != null ? "" : ", got " + describe(r.node);
    return new ConfigException(keyOf(key), label(key, r) + " must be " + expected + got);
  }

  /** The node's type, never its value: the value could be a secret. */
  private static String describe(JsonNode n) {
    JsonNodeType t = n.getNodeType();
    return switch (t) {
      case STRING -> "a string";
      case BOOLEAN -> "a boolean";
      case NUMBER -> n.isIntegralNumber() ? "an integer" : "a float";
      case ARRAY -> "an array";
      case OBJECT -> "a table";
      default -> t.name().toLowerCase(Locale.ROOT);
    };
  }
}
