/**
 * The pRPC edge of the KMS: dstack's wire format over Vert.x. {@link dev.cvmkms.kms.rpc.PrpcRoutes}
 * mounts {@link dev.cvmkms.kms.rpc.PrpcMethod}s on a router, {@link dev.cvmkms.kms.rpc.PrpcJson} is
 * the descriptor-driven pRPC JSON codec, {@link dev.cvmkms.kms.rpc.PrpcErrors} the one error
 * mapping, {@link dev.cvmkms.kms.rpc.Caller} what the transport knows about the client, and {@link
 * dev.cvmkms.kms.rpc.CryptoPool} the named worker pool that services and clients run CPU-bound work
 * on. The generated protobuf classes live in {@code dev.cvmkms.kms.proto}.
 */
@NullMarked
package dev.cvmkms.kms.rpc;

import org.jspecify.annotations.NullMarked;
