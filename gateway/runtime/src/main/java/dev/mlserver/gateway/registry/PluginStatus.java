package dev.mlserver.gateway.registry;

import java.time.Instant;

/**
 * What became of one plugin jar.
 *
 * @param jar the jar's file name in the plugins directory
 * @param classifier the classifier it holds, when the manifest could be read
 * @param reason why it failed; null unless {@code state} is {@link State#FAILED}
 */
public record PluginStatus(String jar, String sha256, State state, String classifier, String version,
                           String reason, Instant since) {
    public enum State {
        LOADING, READY, FAILED;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
