package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class RetryAfterTest {
  @Test
  void delaySeconds() {
    assertThat(HttpExchange.retryAfterMillis("2")).isEqualTo(2_000);
    assertThat(HttpExchange.retryAfterMillis(" 0 ")).isZero();
  }

  @Test
  void httpDate_isTheTimeUntilThen() {
    String in3s =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(3));
    assertThat(HttpExchange.retryAfterMillis(in3s)).isBetween(1_000L, 3_000L);
    String past =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.now(ZoneOffset.UTC).minusSeconds(30));
    assertThat(HttpExchange.retryAfterMillis(past)).isZero();
  }

  @Test
  void absentOrUnreadable_isMinusOne() {
    assertThat(HttpExchange.retryAfterMillis(null)).isEqualTo(-1);
    assertThat(HttpExchange.retryAfterMillis("soon")).isEqualTo(-1);
    assertThat(HttpExchange.retryAfterMillis("-5")).isEqualTo(-1);
  }

  @Test
  void hugeValuesAreCappedAtAnHour() {
    assertThat(HttpExchange.retryAfterMillis("999999999")).isEqualTo(3_600_000);
  }
}
