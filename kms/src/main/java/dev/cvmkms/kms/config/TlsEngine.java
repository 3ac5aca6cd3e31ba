package dev.cvmkms.kms.config;

import java.util.Locale;

/**
 * {@code [rpc.tls] engine}: which TLS implementation the main listener runs on.
 *
 * <ul>
 *   <li>{@code auto} (default): BoringSSL (netty-tcnative, shipped in the jar for linux-x86_64)
 *       when its native library loads, else the JDK's, with a warning;
 *   <li>{@code openssl}: BoringSSL or refuse to start;
 *   <li>{@code jdk}: the JDK's TLS.
 * </ul>
 *
 * BoringSSL matters for a booting fleet: a full TLS 1.3 handshake with a client certificate cost
 * the server about three times as much CPU on the JDK's implementation
 * (docs/bench-kms-getappkey.md).
 */
public enum TlsEngine {
  AUTO,
  OPENSSL,
  JDK;

  public static TlsEngine of(String key, String value) {
    if (value == null) {
      return AUTO;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "auto" -> AUTO;
      case "openssl" -> OPENSSL;
      case "jdk" -> JDK;
      default ->
          throw new ConfigException(
              key,
              key
                  + " must be \"auto\", \"openssl\" or \"jdk\", got \""
                  + value.replaceAll("[^\\x20-\\x7e]", "?")
                  + "\"");
    };
  }

  public String tag() {
    return name().toLowerCase(Locale.ROOT);
  }
}
