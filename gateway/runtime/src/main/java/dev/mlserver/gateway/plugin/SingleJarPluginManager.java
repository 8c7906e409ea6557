package dev.mlserver.gateway.plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import org.pf4j.DefaultPluginFactory;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ManifestPluginDescriptorFinder;
import org.pf4j.Plugin;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginDescriptorFinder;
import org.pf4j.PluginFactory;
import org.pf4j.PluginWrapper;

/**
 * A PF4J manager that holds exactly one plugin jar. One manager per loaded jar lets two versions
 * of a classifier (same plugin id) live side by side while one replaces the other, which a single
 * PF4J manager forbids.
 */
final class SingleJarPluginManager extends DefaultPluginManager {
    private static final PlatformClassLoader PLATFORM = new PlatformClassLoader(SingleJarPluginManager.class.getClassLoader());

    SingleJarPluginManager(Path root, String systemVersion) {
        super(root);
        setSystemVersion(systemVersion);
        setExactVersionAllowed(false);
    }

    @Override
    protected PluginDescriptorFinder createPluginDescriptorFinder() {
        return new ManifestPluginDescriptorFinder();
    }

    /** Jars only, each in a class loader whose parent offers the platform and nothing else of the gateway. */
    @Override
    protected org.pf4j.PluginLoader createPluginLoader() {
        return new PlatformJarLoader(this);
    }

    @Override
    protected PluginFactory createPluginFactory() {
        return new ClassifierPluginFactory();
    }

    /**
     * A classifier plugin needs no {@code Plugin-Class}: without one it gets a plain lifecycle
     * object. With one that cannot be made, it fails loudly instead of returning null.
     */
    private static final class ClassifierPluginFactory implements PluginFactory {
        private final DefaultPluginFactory delegate = new DefaultPluginFactory();

        @Override
        public Plugin create(PluginWrapper wrapper) {
            String pluginClass = wrapper.getDescriptor().getPluginClass();
            if (pluginClass == null || pluginClass.isBlank() || Plugin.class.getName().equals(pluginClass)) {
                return new Plugin() {};
            }
            Plugin plugin = delegate.create(wrapper);
            if (plugin == null) {
                throw new PluginLoadException("cannot create Plugin-Class " + pluginClass);
            }
            return plugin;
        }
    }

    private static final class PlatformJarLoader implements org.pf4j.PluginLoader {
        private final SingleJarPluginManager manager;

        PlatformJarLoader(SingleJarPluginManager manager) {
            this.manager = manager;
        }

        @Override
        public boolean isApplicable(Path pluginPath) {
            return Files.isRegularFile(pluginPath) && pluginPath.getFileName().toString().endsWith(".jar");
        }

        @Override
        public ClassLoader loadPlugin(Path pluginPath, PluginDescriptor descriptor) {
            PluginClassLoader loader = new PluginClassLoader(manager, descriptor, PLATFORM);
            loader.addFile(pluginPath.toFile());
            return loader;
        }
    }
}
