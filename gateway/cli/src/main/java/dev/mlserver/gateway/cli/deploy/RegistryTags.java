package dev.mlserver.gateway.cli.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.Credential;
import com.google.cloud.tools.jib.api.ImageReference;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks a registry, over the Docker Registry HTTP API v2, whether a tag exists:
 * {@code HEAD /v2/<name>/manifests/<tag>}, following a bearer-token challenge when there is one.
 * {@code --insecure} registries are asked over plain HTTP.
 */
public final class RegistryTags {
    private static final String ACCEPT = String.join(",",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
    private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NORMAL).build();
    private final boolean insecure;
    private final Optional<Credential> credential;

    public RegistryTags(boolean insecure, Optional<Credential> credential) {
        this.insecure = insecure;
        this.credential = credential;
    }

    /** The digest the tag points to, or empty when the registry has no such tag. */
    public Optional<String> digest(ImageReference image) {
        String tag = image.getTag().orElseThrow(() -> new DeployException(image + " has no tag"));
        String host = image.getRegistry();
        URI uri = URI.create((insecure ? "http://" : "https://") + host + "/v2/" + image.getRepository() + "/manifests/" + tag);
        try {
            HttpResponse<Void> response = head(uri, basic());
            if (response.statusCode() == 401) {
                Optional<String> auth = authorize(response.headers().firstValue("WWW-Authenticate").orElse(""));
                if (auth.isPresent()) {
                    response = head(uri, auth);
                }
            }
            return switch (response.statusCode()) {
                case 200 -> Optional.of(response.headers().firstValue("Docker-Content-Digest").orElse("unknown digest"));
                case 404 -> Optional.empty();
                case 401, 403 -> throw new DeployException("the registry " + host + " refused access to " + image.getRepository()
                        + " (HTTP " + response.statusCode() + "): set " + ImageBuilder.USERNAME_ENV + " and "
                        + ImageBuilder.PASSWORD_ENV + " or log in with Docker's config.json");
                default -> throw new DeployException("the registry " + host + " answered HTTP " + response.statusCode()
                        + " for " + uri);
            };
        } catch (IOException e) {
            throw new DeployException("cannot reach the registry " + host + " at " + uri + ": " + e.getMessage()
                    + (insecure ? "" : " (for a plain-HTTP registry pass --insecure)"), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeployException("interrupted", e);
        }
    }

    private HttpResponse<Void> head(URI uri, Optional<String> authorization) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept", ACCEPT);
        authorization.ifPresent(a -> request.header("Authorization", a));
        return http.send(request.build(), HttpResponse.BodyHandlers.discarding());
    }

    private Optional<String> basic() {
        return credential.map(c -> "Basic " + Base64.getEncoder().encodeToString(
                (c.getUsername() + ":" + c.getPassword()).getBytes(StandardCharsets.UTF_8)));
    }

    /** Answers a {@code Bearer realm=...,service=...,scope=...} challenge with a token; {@code Basic} with the credential. */
    private Optional<String> authorize(String challenge) throws IOException, InterruptedException {
        if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
            return basic();
        }
        if (!challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            return Optional.empty();
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1), m.group(2));
        }
        String realm = params.remove("realm");
        if (realm == null) {
            return Optional.empty();
        }
        StringBuilder query = new StringBuilder();
        params.forEach((k, v) -> query.append(query.length() == 0 ? "?" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(realm + query)).timeout(TIMEOUT).GET();
        basic().ifPresent(b -> request.header("Authorization", b));
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return Optional.empty();
        }
        JsonNode body = new ObjectMapper().readTree(response.body());
        String token = body.path("token").asText(body.path("access_token").asText(""));
        return token.isEmpty() ? Optional.empty() : Optional.of("Bearer " + token);
    }
}
