/** The HTTP edge: routes, listener limits and the optional global rate limiter. */
@NullMarked
package dev.cvmkms.autheth.http;

import org.jspecify.annotations.NullMarked;
