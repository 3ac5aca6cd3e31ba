package dev.cvmkms.kms.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A reader over one TOML table that knows its dotted path. Each typed getter marks its key as
 * known, takes a {@code KMS__...} override in preference to the file, and reports type errors by
 * full key; {@link #finish()} then rejects the keys nobody asked for. So the getters are the
 * schema: the same code decides which file keys and which environment variables exist.
 */
final class ConfigTable {
  private final String path;
  private final @Nullable ObjectNode node; // null when the table is absent from the file
  private final EnvOverrides env;
  private final LoadRecord record;
  private final Set<String> known = new HashSet<>();
  private final Map<String, String> fromEnv = new HashMap<>(); // key -> variable that set it

  private ConfigTable(String path, @Nullable ObjectNode node, EnvOverrides env, LoadRecord record) {
    this.path = path;
    this.node = node;
    this.env = env;
    this.record = record;
  }

  /**
   * @param record collects the schema, the upstream-only keys present and the effective values
   */
  static ConfigTable root(ObjectNode node, EnvOverrides env, LoadRecord record) {
    return new ConfigTable("", node, env, record);
  }

  String keyOf(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** A sub-table; absent tables read as empty, so every key falls back to its default. */
  ConfigTable table(String key) {
    known.add(key);
    record.tables.add(keyOf(key));
    JsonNode n = node == null ? null : node.get(key);
    if (n != null && !n.isObject()) {
      throw new ConfigException(keyOf(key), keyOf(key) + " must be a table, got " + describe(n));
    }
    return new ConfigTable(keyOf(key), (ObjectNode) n, env, record);
  }

  String string(String key, String def) {
    String v = Objects.requireNonNullElse(rawString(key), def);
    show(key, quote(v));
    return v;
  }

  /** A secret string: like {@link #string} (empty when absent), shown only as redacted. */
  Secret secret(String key) {
    Secret s = Secret.of(Objects.requireNonNullElse(rawString(key), ""));
    show(key, s.toString());
    return s;
  }

  /** The string, or null when absent. */
  private @Nullable String rawString(String key) {
    Raw r = raw(key);
    if (r == null) return null;
    return switch (r) {
      case Raw.FromEnv e -> e.variable().value();
      case Raw.FromFile f -> {
        if (!f.node().isTextual()) throw wrongType(key, r, "a string");
        yield f.node().textValue();
      }
    };
  }

  Optional<String> optionalString(String key) {
    Optional<String> v = Optional.ofNullable(rawString(key));
    show(key, v.map(ConfigTable::quote).orElse(null));
    return v;
  }

  boolean bool(String key, boolean def) {
    boolean v = rawBool(key, def);
    show(key, Boolean.toString(v));
    return v;
  }

  private boolean rawBool(String key, boolean def) {
    Raw r = raw(key);
    if (r == null) return def;
    switch (r) {
      case Raw.FromEnv e -> {
        String v = e.variable().value().strip().toLowerCase(Locale.ROOT);
        if (v.equals("true")) return true;
        if (v.equals("false")) return false;
        throw wrongType(key, r, "true or false");
      }
      case Raw.FromFile f -> {
        if (!f.node().isBoolean()) throw wrongType(key, r, "true or false");
        return f.node().booleanValue();
      }
    }
  }

  int integer(String key, int def) {
    int v = rawInteger(key, def);
    show(key, Integer.toString(v));
    return v;
  }

  private int rawInteger(String key, int def) {
    Raw r = raw(key);
    if (r == null) return def;
    switch (r) {
      case Raw.FromEnv e -> {
        try {
          return Integer.parseInt(e.variable().value().strip());
        } catch (NumberFormatException x) {
          throw wrongType(key, r, "an integer");
        }
      }
      case Raw.FromFile f -> {
        JsonNode n = f.node();
        if (!n.isIntegralNumber()) throw wrongType(key, r, "an integer");
        if (!n.canConvertToInt()) {
          throw new ConfigException(keyOf(key), keyOf(key) + " is out of range: " + n.asText());
        }
        return n.intValue();
      }
    }
  }

  /** An integer, or null when absent. */
  @Nullable Integer optionalInteger(String key) {
    Raw r = raw(key);
    if (r == null) {
      show(key, null);
      return null;
    }
    return integer(key, 0);
  }

  /**
   * An array of strings; from the environment a comma-separated list ({@code "a,b"}, empty for
   * none).
   */
  List<String> stringList(String key, List<String> def) {
    Raw r = raw(key);
    if (r == null) {
      show(key, def.toString());
      return def;
    }
    List<String> out = new java.util.ArrayList<>();
    JsonNode n;
    switch (r) {
      case Raw.FromEnv e -> {
        for (String part : e.variable().value().split(",", -1)) {
          if (!part.isBlank()) out.add(part.strip());
        }
        show(key, out.toString());
        return List.copyOf(out);
      }
      case Raw.FromFile f -> n = f.node();
    }
    if (!n.isArray()) throw wrongType(key, r, "an array of strings");
    for (JsonNode item : n) {
      if (!item.isTextual()) throw wrongType(key, r, "an array of strings");
      out.add(item.textValue());
    }
    show(key, out.toString());
    return List.copyOf(out);
  }

  /** A size in bytes: an integer, or a string such as {@code "64KiB"}; {@code def} when absent. */
  long bytes(String key, long def) {
    Long v = rawBytes(key);
    long b = v == null ? def : v;
    show(key, quote(ByteSizes.format(b)));
    return b;
  }

  /** Like {@link #bytes}, but null when absent. */
  @Nullable Long optionalBytes(String key) {
    Long v = rawBytes(key);
    show(key, v == null ? null : quote(ByteSizes.format(v)));
    return v;
  }

  private @Nullable Long rawBytes(String key) {
    Raw r = raw(key);
    if (r == null) return null;
    String text;
    switch (r) {
      case Raw.FromEnv e -> text = e.variable().value();
      case Raw.FromFile f -> {
        JsonNode n = f.node();
        if (n.isIntegralNumber()) {
          if (!n.canConvertToLong()) {
            throw new ConfigException(keyOf(key), keyOf(key) + " is out of range: " + n.asText());
          }
          return n.longValue();
        } else if (n.isTextual()) {
          text = n.textValue();
        } else {
          throw wrongType(key, r, "a size such as 65536 or \"64KiB\"");
        }
      }
    }
    try {
      return ByteSizes.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(keyOf(key), label(key, r) + " " + e.getMessage(), e);
    }
  }

  /** A duration string such as {@code "30s"}; bare numbers are refused (which unit?). */
  Duration duration(String key, Duration def) {
    Duration v = Objects.requireNonNullElse(rawDuration(key), def);
    show(key, quote(Durations.format(v)));
    return v;
  }

  /** Like {@link #duration}, but null when absent. */
  @Nullable Duration optionalDuration(String key) {
    Duration v = rawDuration(key);
    show(key, v == null ? null : quote(Durations.format(v)));
    return v;
  }

  private @Nullable Duration rawDuration(String key) {
    Raw r = raw(key);
    if (r == null) return null;
    String text =
        switch (r) {
          case Raw.FromEnv e -> e.variable().value();
          case Raw.FromFile f -> {
            if (!f.node().isTextual()) {
              throw wrongType(key, r, "a duration string such as \"30s\"");
            }
            yield f.node().textValue();
          }
        };
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(keyOf(key), label(key, r) + " " + e.getMessage(), e);
    }
  }

  /** A path; the empty string means "not set". */
  Optional<Path> optionalPath(String key) {
    String s = Objects.requireNonNullElse(rawString(key), "");
    Optional<Path> p = s.isBlank() ? Optional.empty() : Optional.of(Path.of(s.strip()));
    show(key, p.map(v -> quote(v.toString())).orElse(null));
    return p;
  }

  Path path(String key, Path def) {
    Path p = optionalPath(key).orElse(def);
    show(key, quote(p.toString()));
    return p;
  }

  /**
   * Replaces the effective value shown for {@code key} when the value used is not what the getter
   * read (a default filled in later, a value taken from a retired upstream key); null: unset.
   */
  void showEffective(String key, @Nullable String displayText) {
    show(key, displayText);
  }

  /**
   * A retired upstream key that is read here under its successor's meaning ({@link
   * UpstreamKeys.Use#READ_AS}): a string from the file only (upstream never had environment
   * overrides), outside our schema, reported as present.
   */
  Optional<String> upstreamString(String key) {
    String full = keyOf(key);
    if (UpstreamKeys.lookup(full).map(e -> e.use() != UpstreamKeys.Use.READ_AS).orElse(true)) {
      throw new IllegalStateException(full + " is not registered as READ_AS in UpstreamKeys");
    }
    known.add(key);
    JsonNode n = node == null ? null : node.get(key);
    if (n == null) return Optional.empty();
    if (!n.isTextual()) {
      throw new ConfigException(full, full + " must be a string, got " + describe(n));
    }
    record.upstream.add(full);
    return Optional.of(n.textValue());
  }

  /**
   * Rejects keys in this table that no getter asked for, unless {@link UpstreamKeys} registers them
   * (then they are recorded as present, once). The error suggests the closest known key.
   */
  void finish() {
    if (node == null) return;
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (known.contains(key)) continue;
      String full = keyOf(key);
      Optional<UpstreamKeys.Entry> upstream = UpstreamKeys.lookup(full);
      if (upstream.isEmpty() || (!upstream.get().subtree() && node.get(key).isObject())) {
        String hint = record.closest.apply(full).map(k -> " (did you mean " + k + "?)").orElse("");
        throw new ConfigException(full, "unknown key " + full + hint);
      }
      if (upstream.get().use() == UpstreamKeys.Use.REFUSED) {
        throw new ConfigException(full, upstream.get().notice());
      }
      record.upstream.add(full);
    }
  }

  /** A value present for a key: from a {@code KMS__...} variable, or else from the file. */
  private sealed interface Raw {
    record FromEnv(EnvOverrides.Var variable) implements Raw {}

    record FromFile(JsonNode node) implements Raw {}
  }

  private void show(String key, @Nullable String displayText) {
    String source = fromEnv.containsKey(key) ? " (from " + fromEnv.get(key) + ")" : "";
    record.effective.put(keyOf(key), (displayText == null ? "unset" : displayText) + source);
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  /**
   * The value present for {@code key}, or null when neither the environment nor the file has it.
   */
  private @Nullable Raw raw(String key) {
    known.add(key);
    record.values.add(keyOf(key));
    EnvOverrides.Var v = env.take(keyOf(key));
    if (v != null) {
      fromEnv.put(key, v.name());
      return new Raw.FromEnv(v);
    }
    JsonNode n = node == null ? null : node.get(key);
    if (n == null) return null;
    if (n.isObject()) {
      throw new ConfigException(keyOf(key), keyOf(key) + " must be a value, got a table");
    }
    return new Raw.FromFile(n);
  }

  private String label(String key, Raw r) {
    return r instanceof Raw.FromEnv e
        ? keyOf(key) + " (from " + e.variable().name() + ")"
        : keyOf(key);
  }

  private ConfigException wrongType(String key, Raw r, String expected) {
    String got = r instanceof Raw.FromFile f ? ", got " + describe(f.node()) : "";
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
