package dev.cvmkms.kms.config;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * What one load saw, filled in by the {@link ConfigTable} getters as they read: every key and table
 * they asked for (the schema), the upstream-only keys present ({@link UpstreamKeys}), and each
 * key's effective value as display text (secrets already redacted). Mutable, one per load.
 */
final class LoadRecord {
  final Set<String> values = new TreeSet<>();
  final Set<String> tables = new TreeSet<>();
  final Set<String> upstream = new LinkedHashSet<>();
  final Map<String, String> effective = new LinkedHashMap<>();

  /** Appends "(did you mean …?)" to an unknown key's message; identity while building a schema. */
  final UnaryOperator<String> hint;

  LoadRecord(UnaryOperator<String> hint) {
    this.hint = hint;
  }

  /**
   * The present upstream-only keys whose {@link UpstreamKeys.Use} is {@code use}, in file order.
   */
  List<String> upstream(UpstreamKeys.Use use) {
    return upstream.stream()
        .filter(k -> UpstreamKeys.lookup(k).orElseThrow().use() == use)
        .toList();
  }
}
