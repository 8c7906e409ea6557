package dev.mlserver.gateway.http;

import dev.mlserver.gateway.config.GatewayConfig;
import java.util.Set;

/** The classifier names the gateway's routes reserve, for tools that check a plugin before it is served. */
public final class Routes {
    private Routes() {}

    /** First path segments that belong to the gateway with this config; see {@link RouteTable#reservedNames()}. */
    public static Set<String> reservedNames(GatewayConfig config) {
        return RouteTable.create(config).reservedNames();
    }
}
