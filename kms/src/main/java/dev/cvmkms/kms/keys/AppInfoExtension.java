package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * The content of the app-info certificate extension ({@code 1.3.6.1.4.1.62397.1.9}) that SignCert
 * adds for {@code ext_app_info}: dstack's {@code AppInfo} as rmp-serde {@code to_vec} writes it, a
 * MessagePack array of the struct's fields in declaration order, every byte field as {@code bin}
 * (non-human-readable serde bytes): app_id, compose_hash, instance_id, device_id, mr_system,
 * mr_aggregated, os_image_hash, key_provider_info, then init_script_hashes (an array of bin; TDX
 * always binds the list, possibly empty).
 */
public final class AppInfoExtension {
  private AppInfoExtension() {}

  public static byte[] encode(AppInfo app) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    arrayHeader(out, 9);
    bin(out, app.appId());
    bin(out, app.composeHash());
    bin(out, app.instanceId());
    bin(out, app.deviceId());
    bin(out, app.mrSystem());
    bin(out, app.mrAggregated());
    bin(out, app.osImageHash());
    bin(out, app.keyProviderInfo());
    List<byte[]> scripts = app.initScriptHashes();
    arrayHeader(out, scripts.size());
    for (byte[] s : scripts) {
      bin(out, s);
    }
    return out.toByteArray();
  }

  private static void arrayHeader(ByteArrayOutputStream out, int n) {
    if (n < 16) {
      out.write(0x90 | n);
    } else if (n < 0x10000) {
      out.write(0xdc);
      out.write(n >>> 8);
      out.write(n);
    } else {
      out.write(0xdd);
      u32(out, n);
    }
  }

  private static void bin(ByteArrayOutputStream out, byte[] b) {
    if (b.length < 0x100) {
      out.write(0xc4);
      out.write(b.length);
    } else if (b.length < 0x10000) {
      out.write(0xc5);
      out.write(b.length >>> 8);
      out.write(b.length);
    } else {
      out.write(0xc6);
      u32(out, b.length);
    }
    out.writeBytes(b);
  }

  private static void u32(ByteArrayOutputStream out, int n) {
    out.write(n >>> 24);
    out.write(n >>> 16);
    out.write(n >>> 8);
    out.write(n);
  }
}
