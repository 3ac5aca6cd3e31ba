package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WebhookSettingsTest {
  private static WebhookSettings with(
      String url, long connectMs, long attemptMs, long deadlineMs, int maxConnections) {
    WebhookSettings d = WebhookSettings.defaults("http://auth:8000");
    return new WebhookSettings(
        url,
        Duration.ofMillis(connectMs),
        Duration.ofMillis(attemptMs),
        Duration.ofMillis(deadlineMs),
        maxConnections,
        d.maxResponseBytes(),
        d.maxRetries(),
        d.breakerFailures(),
        d.breakerReset(),
        d.infoRefresh(),
        d.infoMaxStale());
  }

  @Test
  void defaults_matchTheDocumentedValues() {
    WebhookSettings s = WebhookSettings.defaults("http://auth-api:8000");
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.attemptTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(s.deadline()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.maxConnections()).isEqualTo(8);
    assertThat(s.maxResponseBytes()).isEqualTo(64 * 1024);
    assertThat(s.maxRetries()).isEqualTo(2);
    assertThat(s.breakerFailures()).isEqualTo(5);
    assertThat(s.breakerReset()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.infoRefresh()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.infoMaxStale()).isEqualTo(Duration.ofHours(24));
  }

  @Test
  void invalidValues_nameTheConfigKey() {
    assertThatThrownBy(() -> WebhookSettings.defaults(""))
        .hasMessage("core.auth_api.webhook.url is required");
    assertThatThrownBy(() -> WebhookSettings.defaults("ftp://x"))
        .hasMessageStartingWith("core.auth_api.webhook.url ");
    assertThatThrownBy(() -> WebhookSettings.defaults("http://x/#frag"))
        .hasMessageStartingWith("core.auth_api.webhook.url ");
    assertThatThrownBy(() -> with("http://x", 0, 3000, 5000, 8))
        .hasMessageStartingWith("core.auth_api.webhook.connect_timeout must be positive");
    assertThatThrownBy(() -> with("http://x", 2000, 6000, 5000, 8))
        .hasMessageStartingWith("core.auth_api.webhook.attempt_timeout must not exceed");
    assertThatThrownBy(() -> with("http://x", 2000, 3000, 5000, 0))
        .hasMessageStartingWith("core.auth_api.webhook.max_connections must be between");
  }

  @Test
  void invalidUrl_errorDoesNotEchoCredentials() {
    assertThatThrownBy(() -> WebhookSettings.defaults("http://user:s3cret@ho st/"))
        .hasMessageStartingWith("core.auth_api.webhook.url")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void toString_andRedactedUrl_dropUserInfoAndQuery() {
    WebhookSettings s =
        WebhookSettings.defaults("https://alice:s3cret@auth.example:8443/v1?key=t0k");
    assertThat(s.redactedUrl()).isEqualTo("https://auth.example:8443/v1");
    assertThat(s.toString()).doesNotContain("s3cret", "t0k", "alice");
  }
}
