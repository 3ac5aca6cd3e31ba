package dev.cvmkms.kms.service;

import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.rpc.CryptoPool;
import java.time.Clock;
import java.util.Objects;

/**
 * What the trusted RPCs need beyond the public material: the root keys, the worker pool their
 * crypto runs on, the caller authorization of spec §4.0(C)/(D), the verifier applied to CSR
 * attestations and the clock for timestamps and certificate validity.
 */
public record KeyRelease(
    RootKeys keys,
    CryptoPool crypto,
    AppAuthorization authorization,
    java.util.Optional<dev.cvmkms.kms.attestation.AttestationVerifier> verifier,
    Clock clock) {
  public KeyRelease {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(crypto, "crypto");
    Objects.requireNonNull(authorization, "authorization");
    Objects.requireNonNull(verifier, "verifier");
    Objects.requireNonNull(clock, "clock");
  }

  @Override
  public String toString() {
    return "KeyRelease[" + keys + "]";
  }
}
