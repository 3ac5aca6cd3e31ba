package dev.cvmkms.autheth.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small blocking HTTP client for tests. */
public final class Http {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(2))
          .version(HttpClient.Version.HTTP_1_1)
          .build();

  private Http() {}

  public static HttpResponse<String> get(String url) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public static HttpResponse<String> head(String url) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(20))
            .method("HEAD", HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public static HttpResponse<String> post(String url, String contentType, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(20))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public static HttpResponse<String> postJson(String url, Object json) throws Exception {
    return post(url, "application/json", json.toString());
  }

  /** A raw JSON-RPC call straight to a node (no auth-eth in between). */
  public static String rpc(String nodeUrl, String method, String paramsJson) throws Exception {
    return post(
            nodeUrl,
            "application/json",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\""
                + method
                + "\",\"params\":"
                + paramsJson
                + "}")
        .body();
  }
}
