package dev.cvmkms.kms.config;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The {@code KMS__<SECTION>__<KEY>} environment variables, keyed by lower-case dotted path ({@code
 * KMS__CORE__AUTH_API__WEBHOOK__URL} → {@code core.auth_api.webhook.url}). Values stay raw strings
 * until the key's reader parses them with the key's type; {@link #requireAllUsed} then rejects the
 * variables no key took.
 */
final class EnvOverrides {
  static final String PREFIX = "KMS__";

  private static final Pattern SEGMENT = Pattern.compile("[A-Z0-9_]+");

  /** One variable: its name (for messages) and raw value. */
  record Var(String name, String value) {}

  private final Map<String, String> env;
  private final Map<String, Var> byPath;
  private final Map<String, Var> unused;

  private EnvOverrides(Map<String, String> env, Map<String, Var> byPath) {
    this.env = env;
    this.byPath = byPath;
    this.unused = new TreeMap<>(byPath);
  }

  /** The whole environment, for the few variables outside the scheme (dstack's admin token). */
  Map<String, String> env() {
    return env;
  }

  static EnvOverrides from(Map<String, String> env) {
    Map<String, Var> byPath = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      String name = e.getKey();
      if (!name.startsWith(PREFIX)) {
        continue;
      }
      String[] segments = name.substring(PREFIX.length()).split("__", -1);
      StringBuilder path = new StringBuilder();
      for (String seg : segments) {
        // "KMS__RPC___PORT" would split into a segment with a leading '_': refuse, it is a typo.
        if (!SEGMENT.matcher(seg).matches() || seg.startsWith("_") || seg.endsWith("_")) {
          throw new ConfigException(
              name,
              "environment variable "
                  + name
                  + " is malformed: use KMS__<SECTION>__<KEY> in upper case, e.g. KMS__RPC__PORT");
        }
        if (!path.isEmpty()) path.append('.');
        path.append(seg.toLowerCase(Locale.ROOT));
      }
      byPath.put(path.toString(), new Var(name, e.getValue()));
    }
    return new EnvOverrides(Map.copyOf(env), byPath);
  }

  /**
   * The variable overriding {@code dottedPath} (matched case-insensitively), marked as used; null
   * when none does.
   */
  @Nullable Var take(String dottedPath) {
    String p = dottedPath.toLowerCase(Locale.ROOT);
    Var v = byPath.get(p);
    if (v != null) {
      unused.remove(p);
    }
    return v;
  }

  /**
   * @param closest the closest config key to an unknown dotted path, for "did you mean"
   */
  void requireAllUsed(Function<String, Optional<String>> closest) {
    if (!unused.isEmpty()) {
      Map.Entry<String, Var> first = unused.entrySet().iterator().next();
      String name = first.getValue().name();
      String hint =
          closest.apply(first.getKey()).map(k -> " (did you mean " + nameOf(k) + "?)").orElse("");
      throw new ConfigException(
          name,
          "unknown environment variable "
              + name
              + ": there is no config key "
              + first.getKey()
              + hint
              + (unused.size() > 1 ? " (and " + (unused.size() - 1) + " more unknown)" : ""));
    }
  }

  /** The variable that overrides a dotted key: {@code rpc.port} → {@code KMS__RPC__PORT}. */
  static String nameOf(String dottedPath) {
    return PREFIX + dottedPath.toUpperCase(Locale.ROOT).replace(".", "__");
  }
}
