package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;

/**
 * Builds messages of the generated KMS types with a non-default value in every field, chosen to hit
 * the encoding edges: unsigned values above the signed range, bytes with 00/ff and uppercase
 * nibbles, strings that need escaping, two elements in every repeated field.
 */
final class TestMessages {
  private TestMessages() {}

  /** The generated class's default instance for a descriptor of kms_rpc.proto. */
  static Message defaultInstance(Descriptor descriptor) {
    try {
      Class<?> type = Class.forName("dev.cvmkms.kms.proto." + descriptor.getName());
      return (Message) type.getMethod("getDefaultInstance").invoke(null);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("no generated class for " + descriptor.getFullName(), e);
    }
  }

  static Message filled(Descriptor descriptor) {
    Message.Builder builder = defaultInstance(descriptor).newBuilderForType();
    for (FieldDescriptor field : descriptor.getFields()) {
      if (field.isRepeated()) {
        builder.addRepeatedField(field, value(field, 1));
        builder.addRepeatedField(field, value(field, 2));
      } else {
        builder.setField(field, value(field, 0));
      }
    }
    return builder.build();
  }

  private static Object value(FieldDescriptor field, int salt) {
    int n = field.getNumber() + salt;
    return switch (field.getType()) {
      case STRING -> field.getName() + " \"" + n + "\"\n\\ü😀\u0001";
      case BYTES -> ByteString.copyFrom(new byte[] {0, (byte) 0xff, (byte) 0xAB, (byte) n});
      case UINT32 -> 0xFFFF_FF00 | n; // above Integer.MAX_VALUE as unsigned
      case UINT64 -> -1000L - n; // above Long.MAX_VALUE as unsigned
      case BOOL -> true;
      case MESSAGE -> filled(field.getMessageType());
      default -> throw new IllegalStateException("add a value for " + field.getType());
    };
  }

  /** Fails unless every field of {@code message} (recursively) differs from its default. */
  static void assertEveryFieldSet(Message message) {
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      if (field.isRepeated()) {
        assertThat(message.getRepeatedFieldCount(field)).as(field.getFullName()).isEqualTo(2);
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          ((List<?>) message.getField(field)).forEach(m -> assertEveryFieldSet((Message) m));
        }
      } else {
        assertThat(message.hasField(field)).as(field.getFullName()).isTrue();
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          assertEveryFieldSet((Message) message.getField(field));
        } else {
          assertThat(message.getField(field))
              .as(field.getFullName())
              .isNotEqualTo(field.getDefaultValue());
        }
      }
    }
  }
}
