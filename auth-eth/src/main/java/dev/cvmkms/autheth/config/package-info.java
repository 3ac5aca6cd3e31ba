/** Configuration from the environment as validated records; a bad value is refused at start. */
package dev.cvmkms.autheth.config;
