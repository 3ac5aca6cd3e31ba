/** Operations: the phased shutdown and termination-signal handling. */
@NullMarked
package dev.cvmkms.autheth.ops;

import org.jspecify.annotations.NullMarked;
