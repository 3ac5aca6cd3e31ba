package dev.cvmkms.kms.config;

import java.util.Locale;

/** Comparing two PCCS URLs as services. */
final class PccsUrls {
  private static final String[] API_SUFFIXES = {"/sgx/certification/v4", "/tdx/certification/v4"};

  private PccsUrls() {}

  /**
   * Whether two PCCS URLs name the same service: equal after dropping trailing slashes and the
   * {@code /sgx|tdx/certification/v4} API suffix, which the collateral client drops too (dstack's
   * older {@code pccs_url} examples carried it, the newer {@code urls.pccs} ones do not).
   */
  static boolean sameService(String a, String b) {
    return root(a).equals(root(b));
  }

  private static String root(String url) {
    String u = url.strip();
    while (u.endsWith("/")) u = u.substring(0, u.length() - 1);
    for (String suffix : API_SUFFIXES) {
      if (u.toLowerCase(Locale.ROOT).endsWith(suffix))
        u = u.substring(0, u.length() - suffix.length());
    }
    return u;
  }
}
