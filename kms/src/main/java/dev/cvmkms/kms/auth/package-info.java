/**
 * The auth policy seam: who may boot, and deployment metadata for GetMeta. Dev allows everything;
 * the webhook policy (with its one shared timed client and metadata cache) asks auth-eth.
 */
@NullMarked
package dev.cvmkms.kms.auth;

import org.jspecify.annotations.NullMarked;
