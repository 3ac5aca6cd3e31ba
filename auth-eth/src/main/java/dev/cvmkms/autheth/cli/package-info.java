/** Command-line subcommands: serve, healthcheck, and the contracts tool (deploy, register). */
@NullMarked
package dev.cvmkms.autheth.cli;

import org.jspecify.annotations.NullMarked;
