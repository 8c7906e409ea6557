package dev.mlserver.gateway.plugin;

import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The parent of every plugin's class loader: the JDK, and from the gateway's own class path only
 * the platform a plugin compiles against (plugin-api, PF4J, Jackson, SLF4J, ONNX Runtime, DJL's
 * tokenizers). Nothing else of the gateway (Vert.x, Netty, Caffeine, logging back ends, tooling)
 * is visible to a plugin, so a plugin that needs another library must bundle it; without this,
 * PF4J's fallback to the application class loader would let it borrow the gateway's copy by accident.
 */
final class PlatformClassLoader extends ClassLoader {
    /** Package prefixes of the platform, as class names start. */
    static final List<String> PLATFORM = List.of("dev.mlserver.api.", "org.pf4j.", "com.fasterxml.jackson.",
            "org.slf4j.", "ai.onnxruntime.", "ai.djl.");
    /** What a plugin author reads when a class is missing. */
    static final String PLATFORM_NAMES = "plugin-api, PF4J, Jackson, SLF4J, ONNX Runtime, DJL tokenizers";

    private static final List<String> PLATFORM_PATHS = PLATFORM.stream().map(p -> p.replace('.', '/')).toList();

    static {
        registerAsParallelCapable();
    }

    private final ClassLoader gateway;

    PlatformClassLoader(ClassLoader gateway) {
        super("mlserver-platform", ClassLoader.getPlatformClassLoader());
        this.gateway = gateway;
    }

    /** Whether {@code className} (dotted or slashed) belongs to the platform or the JDK. */
    static boolean provides(String className) {
        String dotted = className.replace('/', '.');
        return dotted.startsWith("java.") || PLATFORM.stream().anyMatch(dotted::startsWith);
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        if (PLATFORM.stream().anyMatch(name::startsWith)) {
            return gateway.loadClass(name);
        }
        throw new ClassNotFoundException(name + " is not part of the platform (" + PLATFORM_NAMES
                + "): bundle it in the plugin jar");
    }

    @Override
    protected URL findResource(String name) {
        return platformResource(name) ? gateway.getResource(name) : null;
    }

    @Override
    protected Enumeration<URL> findResources(String name) throws IOException {
        return platformResource(name) ? gateway.getResources(name) : Collections.emptyEnumeration();
    }

    private static boolean platformResource(String name) {
        return PLATFORM_PATHS.stream().anyMatch(name::startsWith);
    }
}
