/** Operations: the phased shutdown and termination-signal handling. */
package dev.cvmkms.autheth.ops;
