package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.SecurityConfig;
import dev.mlserver.gateway.config.SecurityConfig.TokenGrant;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer-token guard in front of every route. It classifies the normalised path the router will
 * match: open routes (health, per-classifier readiness, docs) pass; {@code /metrics} passes when
 * metrics are open; {@code /admin/*} needs an admin token; a classifier route needs a token
 * granted that classifier; anything else needs a valid token. Tokens are compared as SHA-256
 * digests in constant time and never logged.
 */
public final class AuthHandler implements Handler<RoutingContext> {
    private static final Logger LOG = LoggerFactory.getLogger(AuthHandler.class);
    static final String IDENTITY_KEY = "mlserver.identity";

    /** First path segments that need no token. */
    static final Set<String> OPEN = Set.of("health", "docs", "openapi.json", "status", "favicon.ico");

    private static final int MAX_TOKEN_LENGTH = 4096;

    private final List<TokenGrant> grants;
    private final boolean openMetrics;
    private final String versionSegment;
    private final Counter missing;
    private final Counter invalid;
    private final Counter forbidden;

    private AuthHandler(SecurityConfig security, String versionSegment, MeterRegistry registry) {
        this.grants = security.tokens();
        this.openMetrics = security.openMetrics();
        this.versionSegment = versionSegment;
        this.missing = rejections(registry, "missing_token");
        this.invalid = rejections(registry, "invalid_token");
        this.forbidden = rejections(registry, "forbidden");
    }

    /** The guard for this config, or empty when tokens are off. */
    public static Optional<AuthHandler> create(GatewayConfig config, MeterRegistry registry) {
        if (!config.security().tokensEnabled()) {
            return Optional.empty();
        }
        String version = config.api().includeVersionInUrl() ? config.api().version() : null;
        return Optional.of(new AuthHandler(config.security(), version, registry));
    }

    private static Counter rejections(MeterRegistry registry, String reason) {
        return Counter.builder("mlserver_auth_rejections")
                .description("Requests refused for a missing, invalid or insufficient bearer token")
                .tag("reason", reason).register(registry);
    }

    /** What a path needs: its kind and, for a classifier route, the classifier's name. */
    record Access(Kind kind, String classifier) {
        enum Kind { OPEN, METRICS, ADMIN, ANY_TOKEN, CLASSIFIER }

        static Access of(Kind kind) {
            return new Access(kind, null);
        }
    }

    @Override
    public void handle(RoutingContext ctx) {
        Access access = access(ctx.normalizedPath());
        if (access.kind() == Access.Kind.OPEN || (access.kind() == Access.Kind.METRICS && openMetrics)) {
            ctx.next();
            return;
        }
        String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        String token = bearer(header);
        if (token == null) {
            missing.increment();
            ctx.fail(new GatewayException(ErrorCode.UNAUTHORIZED, header == null
                    ? "this route needs a token: send Authorization: Bearer <token>"
                    : "the Authorization header must be: Bearer <token>"));
            return;
        }
        TokenGrant grant = find(token);
        if (grant == null) {
            invalid.increment();
            ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            ctx.fail(new GatewayException(ErrorCode.UNAUTHORIZED, "the bearer token is not valid"));
            return;
        }
        ctx.put(IDENTITY_KEY, grant.identity());
        String refusal = switch (access.kind()) {
            case ADMIN -> grant.admin() ? null : "token '" + grant.identity() + "' may not use /admin";
            case METRICS -> grant.metrics() || grant.admin() ? null
                    : "token '" + grant.identity() + "' may not read /metrics";
            case CLASSIFIER -> grant.mayCall(access.classifier()) ? null
                    : "token '" + grant.identity() + "' may not call classifier '" + clip(access.classifier()) + "'";
            default -> null;
        };
        if (refusal != null) {
            forbidden.increment();
            LOG.debug("request {}: {}", RequestIds.get(ctx), refusal);
            ctx.fail(new GatewayException(ErrorCode.FORBIDDEN, refusal));
            return;
        }
        ctx.next();
    }

    /**
     * The same guard for a protocol without routes (gRPC): why a call with this
     * {@code Authorization} value may not go on, or empty when it may.
     *
     * @param classifier the classifier the call reaches, or null for a call that needs any valid token
     */
    public Optional<GatewayException> refusal(String authorization, String classifier) {
        String token = bearer(authorization);
        if (token == null) {
            missing.increment();
            return Optional.of(new GatewayException(ErrorCode.UNAUTHORIZED, authorization == null
                    ? "this call needs a token: send authorization: Bearer <token>"
                    : "the authorization metadata must be: Bearer <token>"));
        }
        TokenGrant grant = find(token);
        if (grant == null) {
            invalid.increment();
            return Optional.of(new GatewayException(ErrorCode.UNAUTHORIZED, "the bearer token is not valid"));
        }
        if (classifier != null && !grant.mayCall(classifier)) {
            forbidden.increment();
            return Optional.of(new GatewayException(ErrorCode.FORBIDDEN,
                    "token '" + grant.identity() + "' may not call classifier '" + clip(classifier) + "'"));
        }
        return Optional.empty();
    }

    /** What the normalised {@code path} needs, decided on its segments as the router sees them. */
    Access access(String path) {
        String[] segments = (path == null ? "" : path).split("/", -1);
        // segments[0] is the empty string before the leading slash
        int first = 1;
        if (segments.length <= first || (segments.length == 2 && segments[1].isEmpty())) {
            return Access.of(Access.Kind.OPEN); // "/" is the gateway's landing page
        }
        String head = segments[first];
        if (OPEN.contains(head)) {
            return Access.of(Access.Kind.OPEN);
        }
        if (head.equals("metrics")) {
            return Access.of(Access.Kind.METRICS);
        }
        if (head.equals("admin")) {
            return Access.of(Access.Kind.ADMIN);
        }
        if (head.equals("classifiers")) {
            return Access.of(Access.Kind.ANY_TOKEN);
        }
        if (head.equals("v2")) {
            return v2Access(segments);
        }
        if (versionSegment != null && head.equals(versionSegment)) {
            first++;
            if (segments.length <= first) {
                return Access.of(Access.Kind.ANY_TOKEN);
            }
        }
        String name = decode(segments[first]);
        if (name == null || name.isEmpty()) {
            return Access.of(Access.Kind.ANY_TOKEN);
        }
        if (segments.length == first + 2 && segments[first + 1].equals("ready")) {
            return Access.of(Access.Kind.OPEN);
        }
        return new Access(Access.Kind.CLASSIFIER, name);
    }

    /**
     * The Open Inference Protocol's REST paths: health and model readiness are open (as the
     * native ones), a model's metadata and inference need a token granted that model, and
     * anything else under {@code /v2} any valid token.
     */
    private static Access v2Access(String[] segments) {
        if (segments.length >= 3 && segments[2].equals("health")) {
            return Access.of(Access.Kind.OPEN);
        }
        if (segments.length >= 4 && segments[2].equals("models")) {
            String name = decode(segments[3]);
            if (name == null || name.isEmpty()) {
                return Access.of(Access.Kind.ANY_TOKEN);
            }
            if (segments[segments.length - 1].equals("ready")) {
                return Access.of(Access.Kind.OPEN);
            }
            return new Access(Access.Kind.CLASSIFIER, name);
        }
        return Access.of(Access.Kind.ANY_TOKEN);
    }

    /** The token of {@code Bearer <token>}, or null. */
    static String bearer(String header) {
        if (header == null || header.length() > MAX_TOKEN_LENGTH + 7) {
            return null;
        }
        String h = header.trim();
        if (h.length() < 8 || !h.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
            return null;
        }
        String token = h.substring(7).trim();
        return token.isEmpty() ? null : token;
    }

    /** The grant whose digest matches; every digest is compared, in constant time each. */
    private TokenGrant find(String token) {
        byte[] digest = SecurityConfig.sha256(token);
        TokenGrant found = null;
        for (TokenGrant grant : grants) {
            for (byte[] candidate : grant.digests()) {
                if (MessageDigest.isEqual(candidate, digest) && found == null) {
                    found = grant;
                }
            }
        }
        return found;
    }

    /** Percent-decodes one path segment as the router does for a path parameter; null when malformed. */
    static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(segment.length());
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '%') {
                if (i + 2 >= segment.length()) {
                    return null;
                }
                int hi = Character.digit(segment.charAt(i + 1), 16);
                int lo = Character.digit(segment.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out.write(hi * 16 + lo);
                i += 2;
            } else {
                byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(bytes, 0, bytes.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String clip(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
