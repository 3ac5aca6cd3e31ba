/** Command-line subcommands: serve, healthcheck, and the contracts tool (deploy, register). */
package dev.cvmkms.autheth.cli;
