package dev.cvmkms.kms.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The shipped monitoring files ({@code cvm-image/monitoring/}) and the metric names they use. */
final class MonitoringFiles {
  static final Path DIR = Path.of("..", "cvm-image", "monitoring");
  static final Path RULES = DIR.resolve("alerts.yml");
  static final Path RULE_TESTS = DIR.resolve("alerts.test.yml");
  static final Path DASHBOARD = DIR.resolve("grafana-dashboard.json");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  private MonitoringFiles() {}

  /** Alert name to its expression, in file order. */
  static Map<String, String> alerts() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode group : YAML.readTree(RULES.toFile()).get("groups")) {
      for (JsonNode rule : group.get("rules")) {
        out.put(rule.get("alert").asText(), rule.get("expr").asText());
      }
    }
    return out;
  }

  static JsonNode ruleTests() throws IOException {
    return YAML.readTree(RULE_TESTS.toFile());
  }

  /** Every {@code targets[].expr} of the dashboard, nested rows included. */
  static List<String> dashboardQueries() throws IOException {
    List<String> out = new ArrayList<>();
    collect(JSON.readTree(Files.readString(DASHBOARD)).get("panels"), out);
    return out;
  }

  private static void collect(JsonNode panels, List<String> out) {
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        out.add(target.get("expr").asText());
      }
      collect(panel.path("panels"), out);
    }
  }

  private static final Set<String> KEYWORDS =
      Set.of(
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "bool",
          "and",
          "or",
          "unless",
          "offset",
          "inf",
          "nan");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  /**
   * The metric names a PromQL expression selects: identifiers outside strings, label matchers,
   * ranges and grouping clauses that are not functions, aggregations or keywords.
   */
  static Set<String> metricNames(String expr) {
    String s = expr.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"");
    s = s.replaceAll("\\{[^}]*}", " ");
    s = s.replaceAll("\\[[^]]*]", " ");
    s = GROUPING.matcher(s).replaceAll(" ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENT.matcher(s);
    while (m.find()) {
      String id = m.group();
      int next = m.end();
      while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
        next++;
      }
      boolean call = next < s.length() && s.charAt(next) == '(';
      boolean number = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
      if (!call && !number && !KEYWORDS.contains(id.toLowerCase(java.util.Locale.ROOT))) {
        names.add(id);
      }
    }
    return names;
  }
}
