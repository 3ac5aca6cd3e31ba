package dev.cvmkms.kms.config;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

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

  /** The known key closest to an unknown one, for "did you mean"; none while building a schema. */
  final Function<String, Optional<String>> closest;

  LoadRecord(Function<String, Optional<String>> closest) {
    this.closest = closest;
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
