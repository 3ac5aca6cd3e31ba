package dev.cvmkms.kms;

/** Entry point of the kms command. */
public final class KmsMain {
  private KmsMain() {}

  public static void main(String[] args) {
    System.out.println("kms");
  }
}
