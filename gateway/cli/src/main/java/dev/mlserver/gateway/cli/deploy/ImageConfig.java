package dev.mlserver.gateway.cli.deploy;

import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The gateway config baked into an image: the gateway's embedded defaults with the plugins
 * directory inside the image, private jar copies under {@code /tmp} (the only writable place with
 * a read-only root filesystem) and any plugin directory watching switched off (production reloads
 * by rollout, not by file changes).
 */
public final class ImageConfig {
    public static final String PLUGINS_DIR = "/app/plugins";
    public static final String WORK_DIR = "/tmp/mlserver-plugins";
    public static final String PATH = "/app/config/gateway.yaml";

    private ImageConfig() {}

    /** The YAML text, checked to load with this gateway's own config loader. */
    public static String yaml() {
        Map<String, Object> tree = embeddedDefaults();
        Object plugins = tree.computeIfAbsent("plugins", k -> new LinkedHashMap<String, Object>());
        if (!(plugins instanceof Map)) {
            throw new DeployException("the embedded gateway config's plugins key is not a mapping");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> pluginsMap = (Map<String, Object>) plugins;
        pluginsMap.put("dir", PLUGINS_DIR);
        pluginsMap.put("work_dir", WORK_DIR);
        watchOff(tree);

        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        String text = "# mlserver gateway config of this image, made by `ml_server build` from the gateway's\n"
                + "# embedded defaults (config/gateway.yaml): plugins from " + PLUGINS_DIR + ", private copies\n"
                + "# under /tmp, plugin directory watching off. Environment variables still override it.\n"
                + new Yaml(options).dump(tree);
        try {
            ConfigLoader.create(Map.of()).fromYaml(text, "image config");
        } catch (ConfigException e) {
            throw new DeployException("the image's gateway config does not load: " + e.getMessage(), e);
        }
        return text;
    }

    /** Every boolean key named {@code watch}, wherever the reload settings keep it, set to false. */
    @SuppressWarnings("unchecked")
    private static void watchOff(Map<String, Object> map) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            if (e.getKey().equals("watch") && e.getValue() instanceof Boolean) {
                e.setValue(false);
            } else if (e.getValue() instanceof Map<?, ?> child) {
                watchOff((Map<String, Object>) child);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> embeddedDefaults() {
        try (InputStream in = ImageConfig.class.getResourceAsStream(ConfigLoader.EMBEDDED)) {
            if (in == null) {
                throw new DeployException("the embedded gateway config " + ConfigLoader.EMBEDDED + " is missing");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            Object value = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
            return value instanceof Map ? new LinkedHashMap<>((Map<String, Object>) value) : new LinkedHashMap<>();
        } catch (IOException e) {
            throw new DeployException("cannot read the embedded gateway config: " + e.getMessage(), e);
        }
    }
}
