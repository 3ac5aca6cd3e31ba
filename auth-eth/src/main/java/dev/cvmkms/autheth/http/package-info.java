/** The HTTP edge: routes, listener limits and the optional global rate limiter. */
package dev.cvmkms.autheth.http;
