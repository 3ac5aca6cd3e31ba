/**
 * Configuration from the environment as validated records; a bad value is refused at start. Also
 * the Ethereum address parsing every package shares; nothing here depends on another package.
 */
@NullMarked
package dev.cvmkms.autheth.config;

import org.jspecify.annotations.NullMarked;
