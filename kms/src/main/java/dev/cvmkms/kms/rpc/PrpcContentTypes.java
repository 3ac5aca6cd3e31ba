package dev.cvmkms.kms.rpc;

/** The two response content types of pRPC. */
final class PrpcContentTypes {
  static final String JSON = "application/json";
  static final String PROTOBUF = "application/octet-stream";

  private PrpcContentTypes() {}
}
