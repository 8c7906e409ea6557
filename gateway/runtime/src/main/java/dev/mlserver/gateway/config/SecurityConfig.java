package dev.mlserver.gateway.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code security:} section: bearer tokens and artifact keys. Secrets are read once, at
 * load, from the files or environment variables the config names; tokens are kept only as
 * SHA-256 digests, keys only as bytes. No secret ever appears in a message.
 *
 * @param tokens one grant per token identity; empty: authentication is off
 * @param openMetrics whether {@code /metrics} needs no token
 * @param artifactKeys AES keys by classifier name, or {@code *} for any classifier
 */
public record SecurityConfig(List<TokenGrant> tokens, boolean openMetrics, Map<String, ArtifactKey> artifactKeys) {
    /** No tokens, open metrics, no artifact keys: the dev default. */
    public static final SecurityConfig OFF = new SecurityConfig(List.of(), true, Map.of());

    /** Tokens shorter than this are refused: a token must not be guessable. */
    public static final int MIN_TOKEN_LENGTH = 16;
    /** AES-256 keys only. */
    public static final int KEY_BYTES = 32;

    static final Pattern IDENTITY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern CLASSIFIER = Pattern.compile("^[a-z0-9][a-z0-9-]{0,63}$");
    private static final long MAX_SECRET_FILE_BYTES = 64 * 1024;

    public SecurityConfig {
        tokens = List.copyOf(tokens);
        artifactKeys = Map.copyOf(artifactKeys);
    }

    /** Whether requests need a bearer token. */
    public boolean tokensEnabled() {
        return !tokens.isEmpty();
    }

    /** The key for {@code classifier}: its own entry, else the {@code *} entry. */
    public Optional<ArtifactKey> artifactKey(String classifier) {
        ArtifactKey key = artifactKeys.get(classifier);
        return Optional.ofNullable(key != null ? key : artifactKeys.get("*"));
    }

    /**
     * What one token identity may do.
     *
     * @param digests SHA-256 of each token accepted for this identity (several during a rotation)
     * @param classifiers classifier names it may call, or {@code *} for all
     * @param admin whether it may use {@code /admin/*}
     * @param metrics whether it may scrape {@code /metrics} when metrics are not open
     */
    public record TokenGrant(String identity, List<byte[]> digests, Set<String> classifiers, boolean admin, boolean metrics) {
        public TokenGrant {
            digests = List.copyOf(digests);
            classifiers = Set.copyOf(classifiers);
        }

        public boolean mayCall(String classifier) {
            return classifiers.contains("*") || classifiers.contains(classifier);
        }

        @Override
        public String toString() {
            return "TokenGrant[" + identity + ", " + digests.size() + " token(s), classifiers=" + classifiers
                    + ", admin=" + admin + ", metrics=" + metrics + "]";
        }
    }

    /**
     * AES-256 keys for encrypted artifacts; several during a rotation, tried in order.
     *
     * @param source where they came from, for messages: {@code file /path} or {@code env NAME}
     */
    public record ArtifactKey(String source, List<byte[]> keys) {
        public ArtifactKey {
            keys = List.copyOf(keys);
        }

        @Override
        public String toString() {
            return "ArtifactKey[" + source + ", " + keys.size() + " key(s)]";
        }
    }

    /** Reads the {@code security:} node; {@code env} resolves {@code *_env} references. */
    static SecurityConfig parse(Yaml.Node security, Map<String, String> env) {
        Yaml.Node tokensNode = security.child("tokens");
        List<TokenGrant> grants = new ArrayList<>();
        for (String identity : tokensNode.keys()) {
            if (!IDENTITY.matcher(identity).matches()) {
                throw new ConfigException("security.tokens: identity '" + clip(identity)
                        + "' must be letters, digits, '.', '_' or '-', at most 64");
            }
            Yaml.Node grant = tokensNode.child(identity);
            String where = "security.tokens." + identity;
            List<String> secrets = secrets(grant, "token_file", "token_env", where, env);
            List<byte[]> digests = new ArrayList<>();
            for (String token : secrets) {
                if (token.length() < MIN_TOKEN_LENGTH || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                    throw new ConfigException(where + ": every token must be at least " + MIN_TOKEN_LENGTH
                            + " printable ASCII characters without spaces (the token itself is not shown)");
                }
                digests.add(sha256(token));
            }
            Set<String> classifiers = new LinkedHashSet<>(grant.strings("classifiers"));
            for (String name : classifiers) {
                if (!name.equals("*") && !CLASSIFIER.matcher(name).matches()) {
                    throw new ConfigException(where + ".classifiers: '" + clip(name) + "' is not a classifier name or *");
                }
            }
            boolean admin = grant.bool("admin", false);
            boolean metrics = grant.bool("metrics", false);
            grant.rejectUnknown();
            if (classifiers.isEmpty() && !admin && !metrics) {
                throw new ConfigException(where + " grants nothing: give it classifiers, admin: true or metrics: true");
            }
            grants.add(new TokenGrant(identity, digests, classifiers, admin, metrics));
        }
        boolean openMetrics = security.bool("open_metrics", true);

        Yaml.Node keysNode = security.child("artifact_keys");
        Map<String, ArtifactKey> keys = new LinkedHashMap<>();
        for (String classifier : keysNode.keys()) {
            String where = "security.artifact_keys." + classifier;
            if (!classifier.equals("*") && !CLASSIFIER.matcher(classifier).matches()) {
                throw new ConfigException("security.artifact_keys: '" + clip(classifier) + "' is not a classifier name or *");
            }
            Yaml.Node ref = keysNode.child(classifier);
            String source = ref.string("key_file", "").isBlank() ? "env " + ref.string("key_env", "") : "file " + ref.string("key_file", "");
            List<byte[]> decoded = new ArrayList<>();
            for (String text : secrets(ref, "key_file", "key_env", where, env)) {
                decoded.add(decodeKey(text, where));
            }
            ref.rejectUnknown();
            keys.put(classifier, new ArtifactKey(source, decoded));
        }
        security.rejectUnknown();
        return new SecurityConfig(grants, openMetrics, keys);
    }

    /** A key as written by {@code ml_server encrypt-artifact --generate-key}: base64 of 32 bytes. */
    public static byte[] decodeKey(String text, String where) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": a key must be base64 text (the key itself is not shown)");
        }
        if (key.length != KEY_BYTES) {
            throw new ConfigException(where + ": a key must be " + KEY_BYTES + " bytes (base64 of 32 random bytes), got "
                    + key.length + " bytes");
        }
        return key;
    }

    /**
     * The secrets a node points at: each non-blank line of {@code fileKey}'s file, or the value of
     * the environment variable {@code envKey} names. Exactly one of the two must be given.
     */
    private static List<String> secrets(Yaml.Node node, String fileKey, String envKey, String where,
                                        Map<String, String> env) {
        String file = node.string(fileKey, "");
        String var = node.string(envKey, "");
        if (file.isBlank() == var.isBlank()) {
            throw new ConfigException(where + ": give exactly one of " + fileKey + " and " + envKey);
        }
        List<String> lines = new ArrayList<>();
        if (!var.isBlank()) {
            String value = env.get(var);
            if (value == null || value.isBlank()) {
                throw new ConfigException(where + "." + envKey + ": environment variable " + var + " is not set or empty");
            }
            lines.add(value.trim());
            return lines;
        }
        Path path = Path.of(file);
        try {
            if (Files.isDirectory(path)) {
                throw new ConfigException(where + "." + fileKey + ": " + file + " is a directory, not a file");
            }
            if (Files.size(path) > MAX_SECRET_FILE_BYTES) {
                throw new ConfigException(where + "." + fileKey + ": " + file + " is larger than " + MAX_SECRET_FILE_BYTES + " bytes");
            }
            for (String line : new String(Files.readAllBytes(path), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    lines.add(line.trim());
                }
            }
        } catch (NoSuchFileException e) {
            throw new ConfigException(where + "." + fileKey + ": no such file " + file);
        } catch (IOException e) {
            throw new ConfigException(where + "." + fileKey + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        if (lines.isEmpty()) {
            throw new ConfigException(where + "." + fileKey + ": " + file + " is empty");
        }
        return lines;
    }

    /** The SHA-256 digest of a token's UTF-8 bytes. */
    public static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String clip(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
