package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.Messages.clip;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.SecurityConfig;
import dev.mlserver.gateway.config.SecurityConfig.TokenGrant;
import dev.mlserver.gateway.metrics.WarmupMark;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens against a route's declared {@link Access}. It runs after the router has matched
 * the route, so the classifier it checks is the router's own {@code :classifier} parameter, never
 * a second reading of the path. Tokens are compared as SHA-256 digests in constant time and never
 * logged. With tokens off it admits everything.
 */
final class TokenGuard {
    private static final Logger LOG = LoggerFactory.getLogger(TokenGuard.class);
    private static final int MAX_TOKEN_LENGTH = 4096;
    /** The gateway's own warm-up: any classifier, nothing else. */
    private static final TokenGrant WARMUP = new TokenGrant(WarmupMark.IDENTITY, List.of(), Set.of("*"), false, false);

    private final boolean on;
    private final List<TokenGrant> grants;
    private final boolean openMetrics;
    private final Counter missing;
    private final Counter invalid;
    private final Counter forbidden;

    private TokenGuard(SecurityConfig security, MeterRegistry registry) {
        this.on = security.tokensEnabled();
        this.grants = security.tokens();
        this.openMetrics = security.openMetrics();
        this.missing = on ? rejections(registry, "missing_token") : null;
        this.invalid = on ? rejections(registry, "invalid_token") : null;
        this.forbidden = on ? rejections(registry, "forbidden") : null;
    }

    static TokenGuard create(GatewayConfig config, MeterRegistry registry) {
        return new TokenGuard(config.security(), registry);
    }

    private static Counter rejections(MeterRegistry registry, String reason) {
        return Counter.builder("mlserver_auth_rejections")
                .description("Requests refused for a missing, invalid or insufficient bearer token")
                .tag("reason", reason).register(registry);
    }

    /**
     * Whether the caller may use a route of {@code access}; when not, {@code ctx} has been failed
     * with 401 or 403. Records the caller's grant in {@code exchange}.
     */
    boolean admit(RoutingContext ctx, Exchange exchange, Access access) {
        if (!on) {
            return true;
        }
        exchange.guarded = true;
        if (access == Access.OPEN || (access == Access.METRICS && openMetrics)) {
            return true;
        }
        String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        String token = bearer(header);
        if (token == null) {
            missing.increment();
            ctx.fail(new GatewayException(ErrorCode.UNAUTHORIZED, header == null
                    ? "this route needs a token: send Authorization: Bearer <token>"
                    : "the Authorization header must be: Bearer <token>"));
            return false;
        }
        TokenGrant grant = find(token);
        if (grant == null) {
            invalid.increment();
            ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            ctx.fail(new GatewayException(ErrorCode.UNAUTHORIZED, "the bearer token is not valid"));
            return false;
        }
        exchange.grant = grant;
        String refusal = refusal(grant, access, ctx);
        if (refusal != null) {
            forbidden.increment();
            LOG.debug("request {}: {}", exchange.requestId, refusal);
            ctx.fail(new GatewayException(ErrorCode.FORBIDDEN, refusal));
            return false;
        }
        return true;
    }

    /**
     * The same check for a protocol without routes (gRPC): why a call with this
     * {@code authorization} value may not go on, or empty when it may.
     *
     * @param classifier the classifier the call reaches, or null for a call that needs any valid token
     */
    Optional<GatewayException> refusal(String authorization, String classifier) {
        if (!on) {
            return Optional.empty();
        }
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

    /** Why {@code grant} may not use a route of {@code access}, or null when it may. */
    private static String refusal(TokenGrant grant, Access access, RoutingContext ctx) {
        return switch (access) {
            case ADMIN -> grant.admin() ? null : "token '" + grant.identity() + "' may not use /admin";
            case METRICS -> grant.metrics() || grant.admin() ? null
                    : "token '" + grant.identity() + "' may not read /metrics";
            case CLASSIFIER -> {
                String classifier = ctx.pathParam(Route.CLASSIFIER);
                yield classifier != null && grant.mayCall(classifier) ? null
                        : "token '" + grant.identity() + "' may not call classifier '" + clip(String.valueOf(classifier)) + "'";
            }
            case OPEN, TOKEN -> null;
        };
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

    /**
     * The grant whose digest matches, or the warm-up's while one runs ({@link WarmupMark}); every
     * digest is compared, in constant time each.
     */
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
        if (WarmupMark.admits(digest) && found == null) {
            found = WARMUP;
        }
        return found;
    }
}
