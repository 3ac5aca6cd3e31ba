package dev.cvmkms.autheth.chain;

import java.util.List;

/**
 * A validated boot request, already converted to the contract's types: addresses are lower-case
 * {@code 0x} + 40 hex digits and the 32-byte fields are {@code 0x} + 64 hex digits (left-padded, as
 * upstream does).
 */
public record BootInfo(
    String appId,
    String composeHash,
    String instanceId,
    String deviceId,
    String mrAggregated,
    String mrSystem,
    String osImageHash,
    String tcbStatus,
    List<String> advisoryIds) {
  public BootInfo {
    advisoryIds = List.copyOf(advisoryIds);
  }
}
