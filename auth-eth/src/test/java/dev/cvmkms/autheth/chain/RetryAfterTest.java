package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

/** The Retry-After parser, pinned identically in the KMS's RetryAfterTest. */
class RetryAfterTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private static String date(Instant t) {
    return DateTimeFormatter.RFC_1123_DATE_TIME.format(t.atZone(ZoneOffset.UTC));
  }

  @Test
  void delaySeconds() {
    assertThat(RetryAfter.nanos("2", CLOCK)).isEqualTo(2_000_000_000L);
    assertThat(RetryAfter.nanos(" 0 ", CLOCK)).isZero();
  }

  @Test
  void httpDate_isTheTimeUntilThen() {
    assertThat(RetryAfter.nanos(date(NOW.plusSeconds(3)), CLOCK)).isEqualTo(3_000_000_000L);
    assertThat(RetryAfter.nanos(date(NOW.minusSeconds(30)), CLOCK)).isZero();
  }

  @Test
  void absentOrUnreadable_isMinusOne() {
    assertThat(RetryAfter.nanos(null, CLOCK)).isEqualTo(-1);
    assertThat(RetryAfter.nanos("", CLOCK)).isEqualTo(-1);
    assertThat(RetryAfter.nanos("soon", CLOCK)).isEqualTo(-1);
    assertThat(RetryAfter.nanos("-5", CLOCK)).isEqualTo(-1);
    assertThat(RetryAfter.nanos("1.5", CLOCK)).isEqualTo(-1);
  }

  @Test
  void hugeValuesAreCappedAtAnHour() {
    assertThat(RetryAfter.nanos("999999999", CLOCK)).isEqualTo(3_600_000_000_000L);
    assertThat(RetryAfter.nanos(date(NOW.plusSeconds(86_400)), CLOCK))
        .isEqualTo(3_600_000_000_000L);
  }
}
