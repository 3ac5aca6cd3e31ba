/** Configuration from the environment as validated records; a bad value is refused at start. */
@NullMarked
package dev.cvmkms.autheth.config;

import org.jspecify.annotations.NullMarked;
