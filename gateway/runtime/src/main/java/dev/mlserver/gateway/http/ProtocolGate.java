package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/**
 * What another protocol's handlers (the Open Inference Protocol, REST and gRPC) share with the
 * route table: the same token check, and the request's exchange (the classifier version it holds,
 * its route label, its error) that the access log counts and lets go of.
 */
public final class ProtocolGate {
    private final TokenGuard guard;

    private ProtocolGate(TokenGuard guard) {
        this.guard = guard;
    }

    public static ProtocolGate create(GatewayConfig config, MeterRegistry registry) {
        return new ProtocolGate(TokenGuard.create(config, registry));
    }

    /** REST: records the route label and checks the token; false when {@code ctx} has been failed with 401/403. */
    public boolean admit(RoutingContext ctx, ProtocolRoute route) {
        Exchange exchange = Exchange.of(ctx);
        exchange.protocolRoute = route.label();
        return guard.admit(ctx, exchange, route.access());
    }

    /** REST: the classifier version the request holds until the access log lets it go. */
    public static void hold(RoutingContext ctx, LoadedClassifier classifier) {
        Exchange.of(ctx).classifier = classifier;
    }

    public static void cached(RoutingContext ctx) {
        Exchange.of(ctx).cached = true;
    }

    public static void error(RoutingContext ctx, ErrorCode code) {
        Exchange.of(ctx).error = code;
    }

    /** gRPC: why a call with this {@code authorization} may not reach {@code classifier} (null: any token), or empty. */
    public Optional<GatewayException> refusal(String authorization, String classifier) {
        return guard.refusal(authorization, classifier);
    }
}
