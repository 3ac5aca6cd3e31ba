package dev.cvmkms.kms.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.text.similarity.LevenshteinDistance;

/**
 * "Did you mean …?" for an unknown dotted key: the closest known key by edit distance, looked for
 * first among the unknown key's siblings one edit away (a typo), then anywhere by the same last
 * segment (a key in the wrong table), then among siblings up to a third of the segment away, then
 * by the whole path. Case is ignored when comparing.
 */
final class KeySuggestions {
  private KeySuggestions() {}

  /**
   * @param unknown the dotted path that no reader knows
   * @param known every dotted key and table path that would be accepted
   * @param preferred the subset to prefer on equal distance (keys we read over upstream-only ones)
   */
  static Optional<String> closest(String unknown, Collection<String> known, Set<String> preferred) {
    String parent = parentOf(unknown);
    String leaf = leafOf(unknown);
    List<String> others = known.stream().filter(k -> !k.equals(unknown)).toList();
    Comparator<Scored> order =
        Comparator.comparingInt(Scored::distance)
            .thenComparing(s -> preferred.contains(s.key()) ? 0 : 1)
            .thenComparing(Scored::key);

    // One edit in the last segment is almost surely a typo; a key that exists elsewhere under the
    // same name beats a sibling two edits away ("port" at the top level is rpc.port, not core).
    Optional<String> typo = sibling(others, parent, leaf, 1, order);
    if (typo.isPresent()) return typo;

    Optional<String> moved =
        others.stream()
            .filter(k -> leafOf(k).equalsIgnoreCase(leaf))
            .map(k -> new Scored(k, k.length()))
            .min(order)
            .map(Scored::key);
    if (moved.isPresent()) return moved;

    Optional<String> sibling = sibling(others, parent, leaf, limit(leaf), order);
    if (sibling.isPresent()) return sibling;

    int pathLimit = limit(unknown);
    return others.stream()
        .map(k -> new Scored(k, distance(unknown, k, pathLimit)))
        .filter(s -> s.distance() >= 0)
        .min(order)
        .map(Scored::key);
  }

  private record Scored(String key, int distance) {}

  private static Optional<String> sibling(
      List<String> known, String parent, String leaf, int limit, Comparator<Scored> order) {
    return known.stream()
        .filter(k -> parentOf(k).equals(parent))
        .map(k -> new Scored(k, distance(leaf, leafOf(k), limit)))
        .filter(s -> s.distance() >= 0)
        .min(order)
        .map(Scored::key);
  }

  /** Up to a third of the word may be wrong, at least two edits (a transposition is two). */
  private static int limit(String word) {
    return Math.max(2, word.length() / 3);
  }

  /** The distance, or -1 when it exceeds {@code limit}. */
  private static int distance(String a, String b, int limit) {
    return new LevenshteinDistance(limit)
        .apply(a.toLowerCase(Locale.ROOT), b.toLowerCase(Locale.ROOT));
  }

  private static String parentOf(String path) {
    int i = path.lastIndexOf('.');
    return i < 0 ? "" : path.substring(0, i);
  }

  private static String leafOf(String path) {
    return path.substring(path.lastIndexOf('.') + 1);
  }
}
