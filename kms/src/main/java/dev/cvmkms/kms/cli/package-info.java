/**
 * Command-line subcommands: serve, dev, healthcheck, get-keys, quote, verify-quote and
 * verify-response, with the production profile's checks.
 */
@NullMarked
package dev.cvmkms.kms.cli;

import org.jspecify.annotations.NullMarked;
