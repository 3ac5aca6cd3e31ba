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
 * first among the unknown key's siblings (a typo in the last segment), then anywhere by the same
 * last segment (a key in the wrong table), then by the whole path. Case is ignored when comparing.
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

    int leafLimit = limit(leaf);
    Optional<String> sibling =
        others.stream()
            .filter(k -> parentOf(k).equals(parent))
            .map(k -> new Scored(k, distance(leaf, leafOf(k), leafLimit)))
            .filter(s -> s.distance() >= 0)
            .min(order)
            .map(Scored::key);
    if (sibling.isPresent()) return sibling;

    Optional<String> moved =
        others.stream()
            .filter(k -> leafOf(k).equalsIgnoreCase(leaf))
            .map(k -> new Scored(k, k.length()))
            .min(order)
            .map(Scored::key);
    if (moved.isPresent()) return moved;

    int pathLimit = limit(unknown);
    return others.stream()
        .map(k -> new Scored(k, distance(unknown, k, pathLimit)))
        .filter(s -> s.distance() >= 0)
        .min(order)
        .map(Scored::key);
  }

  private record Scored(String key, int distance) {}

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
