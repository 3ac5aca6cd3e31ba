package dev.cvmkms.kms.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one registry of dstack {@code kms.toml} keys that no typed getter reads here: keys some
 * released dstack (v0.4.2 … v0.5.11, and main) accepted but whose setting has no effect in this
 * KMS, or that upstream retired and we read under their successor's meaning. Facts from dstack's
 * {@code kms/src/config.rs} and {@code kms.toml} at each tag (see {@code
 * src/test/resources/config/upstream/README.md}).
 *
 * <p>{@link ConfigTable#finish()} consults this registry only for keys no getter asked for: a key
 * that is here is accepted and reported once ({@link Entry#notice()}); any other unknown key is an
 * error with a suggestion. Keys of our own (new tables included) are never registered here: their
 * getters are the schema. Register a key here only when an upstream version had it.
 */
public final class UpstreamKeys {
  /** What a registered key does here. */
  public enum Use {
    /** Accepted and logged; the setting has no effect in this KMS. */
    IGNORED,
    /** Retired upstream; read here under its successor's meaning (see the entry's note). */
    READ_AS,
    /** Upstream accepted it, but honouring it is impossible and ignoring it would be unsafe. */
    REFUSED
  }

  /**
   * One registered key.
   *
   * @param path dotted path
   * @param subtree whether the entry covers a whole table (e.g. Rocket's {@code limits})
   * @param use what happens to it here
   * @param note what upstream did with it and what it does here, for the log line
   */
  public record Entry(String path, boolean subtree, Use use, String note) {
    /** The one log line about this key, e.g. for {@code kms serve} and {@code --check-config}. */
    public String notice() {
      return switch (use) {
        case IGNORED -> path + ": accepted and ignored: " + note;
        case READ_AS -> path + ": " + note;
        case REFUSED -> path + ": " + note;
      };
    }
  }

  /** Rocket 0.6 (dstack's HTTP server) settings, read from every table dstack handed to Rocket. */
  private static final String[] ROCKET_VALUES = {
    "workers",
    "max_blocking",
    "ident",
    "ip_header",
    "proxy_proto_header",
    "temp_dir",
    "keep_alive",
    "secret_key",
    "log_level",
    "log_format",
    "cli_colors",
    "reuse"
  };

  private static final String[] ROCKET_TABLES = {"limits", "shutdown"};

  private static final String[] NON_TDX_ROOTS = {
    "gcp_tpm",
    "aws_nitro_enclave",
    "aws_nitro_tpm",
    "sev_snp_milan",
    "sev_snp_genoa",
    "sev_snp_turin"
  };

  private static final Map<String, Entry> ENTRIES = build();

  private UpstreamKeys() {}

  private static Map<String, Entry> build() {
    Map<String, Entry> m = new LinkedHashMap<>();
    String rocket = "a setting of dstack's Rocket HTTP server (no equivalent here)";
    // [default] is in every dstack kms.toml; [rpc], [core.onboard] and (main) [core.admin] were
    // handed to Rocket as the listener's configuration.
    for (String table : new String[] {"default", "rpc", "core.onboard", "core.admin"}) {
      for (String k : ROCKET_VALUES) put(m, table + "." + k, false, Use.IGNORED, rocket);
      for (String k : ROCKET_TABLES) put(m, table + "." + k, true, Use.IGNORED, rocket);
    }
    put(
        m,
        "rpc.limits",
        true,
        Use.IGNORED,
        rocket + "; request bodies are capped by [rpc.body_limits]");
    put(m, "rpc.shutdown", true, Use.IGNORED, rocket + "; the drain time is rpc.shutdown_grace");
    put(m, "default.address", false, Use.IGNORED, rocket + "; the listener is [rpc] address");
    put(m, "default.port", false, Use.IGNORED, rocket + "; the listener is [rpc] port");
    for (String k : new String[] {"ciphers", "prefer_server_cipher_order"}) {
      put(
          m,
          "rpc.tls." + k,
          false,
          Use.IGNORED,
          "Rocket TLS tuning; this KMS uses Vert.x's default TLS protocols and the JDK's suites");
    }
    // Rocket would have served these listeners over TLS; ours are plain HTTP by design, so
    // dropping the key silently would downgrade what the operator asked for.
    for (String table : new String[] {"core.onboard", "core.admin"}) {
      put(
          m,
          table + ".tls",
          true,
          Use.REFUSED,
          "TLS on the "
              + table.substring(5)
              + " listener is not supported here (it is plain HTTP:"
              + " keep it on a trusted network or loopback); remove the table");
    }
    put(
        m,
        "core.subject_postfix",
        false,
        Use.IGNORED,
        "in every dstack kms.toml, but read by no dstack version");
    put(
        m,
        "core.onboard.quote_enabled",
        false,
        Use.IGNORED,
        "retired upstream in v0.5.9 (read v0.4.2 … v0.5.8); quotes are always required here, "
            + "whatever its value (GHSA-8v4c-4j4w-gwgv)");
    put(
        m,
        "core.pccs_url",
        false,
        Use.READ_AS,
        "retired upstream after v0.5.11 (dstack main; read v0.4.2 … v0.5.11); read as"
            + " core.attestation.urls.pccs when that is unset");
    put(
        m,
        "core.admin_token_hash",
        false,
        Use.READ_AS,
        "retired upstream after v0.5.11 (dstack main; read v0.5.1 … v0.5.11); read as a"
            + " [core.admin] credential: the hex SHA-256 of the admin token");
    put(
        m,
        "core.attestation.urls.amd_kds",
        false,
        Use.IGNORED,
        "AMD SEV-SNP collateral (dstack main); this KMS verifies TDX quotes only");
    for (String k : NON_TDX_ROOTS) {
      put(
          m,
          "core.attestation.root_ca." + k,
          false,
          Use.IGNORED,
          "a non-TDX trust anchor (dstack main); this KMS verifies TDX quotes only");
    }
    return Collections.unmodifiableMap(m);
  }

  private static void put(
      Map<String, Entry> m, String path, boolean subtree, Use use, String note) {
    m.put(path, new Entry(path, subtree, use, note));
  }

  /** The entry for a key path exactly as registered (a subtree entry covers its whole table). */
  public static Optional<Entry> lookup(String path) {
    return Optional.ofNullable(ENTRIES.get(path));
  }

  /** Every registered path (candidates for "did you mean"). */
  static List<String> paths() {
    return new ArrayList<>(ENTRIES.keySet());
  }
}
