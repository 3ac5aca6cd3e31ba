package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.config.AuthApiConfig;
import java.net.URI;
import org.junit.jupiter.api.Test;

/** The webhook URL as it may be shown, and the one settings record's URL checks. */
class WebhookTargetTest {
  @Test
  void redactedUrl_dropsUserInfoAndQuery() {
    URI u = URI.create("https://alice:s3cret@auth.example:8443/v1?key=t0k");
    assertThat(WebhookTarget.redacted(u)).isEqualTo("https://auth.example:8443/v1");
    assertThat(new WebhookTarget(u, "t").shownUrl()).doesNotContain("s3cret", "t0k", "alice");
  }

  @Test
  void invalidUrl_isRefusedNamingTheKey() {
    assertThatThrownBy(() -> AuthApiConfig.Webhook.at(URI.create("ftp://x")))
        .hasMessageContaining("core.auth_api.webhook.url");
  }
}
