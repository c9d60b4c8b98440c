/*
 * trendcart: local Elasticsearch node helper (our own code, not part of Elasticsearch).
 *
 * Lives in the org.elasticsearch.node package only because Node(NodeConstruction),
 * NodeConstruction.prepareConstruction and NodeServiceProvider are package-private.
 */
package org.elasticsearch.node;

import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** An Elasticsearch node whose plugins (e.g. Netty4Plugin for HTTP) are given as classpath classes. */
public class ClasspathPluginsNode extends Node {

    public ClasspathPluginsNode(Environment environment, List<Class<? extends Plugin>> pluginClasses) {
        super(
            NodeConstruction.prepareConstruction(
                environment,
                PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false),
                new ServiceProvider(pluginClasses),
                true
            )
        );
    }

    private static final class ServiceProvider extends NodeServiceProvider {
        private final List<Class<? extends Plugin>> pluginClasses;

        ServiceProvider(List<Class<? extends Plugin>> pluginClasses) {
            this.pluginClasses = List.copyOf(pluginClasses);
        }

        @Override
        PluginsService newPluginService(Environment environment, PluginsLoader pluginsLoader) {
            return new ClasspathPluginsService(environment.settings(), environment.configDir(), pluginClasses);
        }
    }
}
