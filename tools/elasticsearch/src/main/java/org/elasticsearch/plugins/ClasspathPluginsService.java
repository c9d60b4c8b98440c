/*
 * trendcart: local Elasticsearch node helper (our own code, not part of Elasticsearch).
 *
 * Lives in the org.elasticsearch.plugins package only because PluginsService.LoadedPlugin has a
 * package-private constructor. The node runs from a plain classpath (no module layers), so the
 * split package is harmless.
 */
package org.elasticsearch.plugins;

import org.elasticsearch.common.settings.Settings;

import java.lang.reflect.Constructor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A PluginsService whose plugins are classes already on the JVM classpath, instead of bundles on disk. */
public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> classpathPlugins;

    public ClasspathPluginsService(Settings settings, Path configPath, Collection<Class<? extends Plugin>> pluginClasses) {
        super(settings, configPath, PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false));
        List<LoadedPlugin> loaded = new ArrayList<>();
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            Plugin instance = instantiate(pluginClass, settings, configPath);
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginClass.getName(),          // name
                "classpath plugin",             // description
                "NA",                           // version
                org.elasticsearch.Build.current().version(), // elasticsearch version
                "17",                           // java version
                pluginClass.getName(),          // classname
                null,                           // module name (none: classpath)
                List.of(),                      // extended plugins
                false,                          // has native controller
                false,                          // licensed
                false,                          // modular
                false                           // stable
            );
            loaded.add(new LoadedPlugin(descriptor, instance, pluginClass.getClassLoader()));
        }
        this.classpathPlugins = List.copyOf(loaded);
    }

    private static Plugin instantiate(Class<? extends Plugin> pluginClass, Settings settings, Path configPath) {
        try {
            for (Constructor<?> c : pluginClass.getConstructors()) {
                Class<?>[] p = c.getParameterTypes();
                if (p.length == 2 && p[0] == Settings.class && p[1] == Path.class) {
                    return (Plugin) c.newInstance(settings, configPath);
                }
            }
            for (Constructor<?> c : pluginClass.getConstructors()) {
                Class<?>[] p = c.getParameterTypes();
                if (p.length == 1 && p[0] == Settings.class) {
                    return (Plugin) c.newInstance(settings);
                }
            }
            return pluginClass.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot instantiate plugin " + pluginClass.getName(), e);
        }
    }

    @Override
    protected List<LoadedPlugin> plugins() {
        return classpathPlugins;
    }
}
