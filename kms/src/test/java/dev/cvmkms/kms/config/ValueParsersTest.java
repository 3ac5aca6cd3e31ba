package dev.cvmkms.kms.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValueParsersTest {

  @ParameterizedTest
  @CsvSource({
    "500ms, 500",
    "30s,   30000",
    "2m,    120000",
    "1h,    3600000",
    "1d,    86400000",
    "1m30s, 90000",
    "1h0m5s500ms, 3605500",
    "0s,    0",
  })
  void durationsParse(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "30",
        "s",
        "3 s",
        "1.5s",
        "-1s",
        "30S",
        "1w",
        "never",
        "30s5",
        "99999999999999999999s"
      })
  void badDurationsAreRefused(String text) {
    assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void durationsFormatRoundTrip() {
    for (String s : new String[] {"500ms", "30s", "2m", "1h", "1d", "1m30s", "1d2h3m4s5ms"}) {
      assertThat(Durations.format(Durations.parse(s))).isEqualTo(s);
    }
  }

  @ParameterizedTest
  @CsvSource({
    "65536,   65536",
    "64KiB,   65536",
    "64kib,   65536",
    "1 MiB,   1048576",
    "1MiB,    1048576",
    "10MiB,   10485760",
    "500kB,   500000",
    "2MB,     2000000",
    "1GiB,    1073741824",
    "12B,     12",
  })
  void sizesParse(String text, long bytes) {
    assertThat(ByteSizes.parse(text)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "KiB", "1.5MiB", "-1", "64 parsecs", "99999999999999GiB"})
  void badSizesAreRefused(String text) {
    assertThatThrownBy(() -> ByteSizes.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sizesFormat() {
    assertThat(ByteSizes.format(64 * 1024)).isEqualTo("64KiB");
    assertThat(ByteSizes.format(10 * 1024 * 1024)).isEqualTo("10MiB");
    assertThat(ByteSizes.format(1000)).isEqualTo("1000B");
  }

  @Test
  void secretNeverShowsItsValue() {
    Secret s = Secret.of("tok3n");
    assertThat(s.toString()).isEqualTo("<redacted>");
    assertThat(Secret.empty().toString()).isEqualTo("<empty>");
    assertThat(s).isEqualTo(Secret.of("tok3n")).isNotEqualTo(Secret.of("other"));
    assertThat(s.reveal()).isEqualTo("tok3n");
  }

  @Test
  void webhookEndpointsJoinLikeDstack() {
    AuthApiConfig.Webhook bare = AuthApiConfig.Webhook.at(URI.create("http://auth-api:8000"));
    assertThat(bare.bootAuthAppUrl()).isEqualTo(URI.create("http://auth-api:8000/bootAuth/app"));
    assertThat(bare.bootAuthKmsUrl()).isEqualTo(URI.create("http://auth-api:8000/bootAuth/kms"));
    assertThat(bare.infoUrl()).isEqualTo(URI.create("http://auth-api:8000"));

    AuthApiConfig.Webhook withPath =
        AuthApiConfig.Webhook.at(URI.create("https://policy.example/kms/"));
    assertThat(withPath.bootAuthAppUrl())
        .isEqualTo(URI.create("https://policy.example/kms/bootAuth/app"));
    assertThat(withPath.infoUrl()).isEqualTo(URI.create("https://policy.example/kms/"));
  }

  @Test
  void recordsValidateWhenBuiltInCode() {
    assertThatThrownBy(() -> new OnboardConfig(true, "", "0.0.0.0", -1))
        .isInstanceOf(ConfigException.class)
        .hasMessage("core.onboard.port must be between 0 and 65535, got -1");
    assertThatThrownBy(
            () ->
                new RpcConfig(
                    "", 0, TlsConfig.inCertDir(java.nio.file.Path.of("/c")), BodyLimits.defaults()))
        .hasMessage("rpc.address must not be empty");
  }
}
