package dev.cvmkms.kms;

import picocli.CommandLine.IVersionProvider;

/** The version string, from the jar manifest when packaged. */
public final class KmsVersion implements IVersionProvider {
  public static String version() {
    String v = KmsVersion.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {"kms " + version()};
  }
}
