package dev.trendcart.es;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.ClasspathPluginsNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts one Elasticsearch node on 127.0.0.1 for trendcart development and tests.
 *
 * Usage: LocalNode --home DIR [--data DIR] [--port 9200] [--transport-port 0] [--pid-file FILE]
 *                  [-E key=value ...]
 *
 * --transport-port 0 (the default) binds the internal transport layer to a free ephemeral port.
 *
 * HTTP comes from Netty4Plugin (org.elasticsearch.plugin:transport-netty4). Security is not
 * present at all (x-pack is not loaded), so the node speaks plain HTTP without authentication.
 */
public final class LocalNode {

    private LocalNode() {}

    public static void main(String[] args) throws Exception {
        // Our shutdown hook logs while closing the node; keep log4j alive until it is done.
        if (System.getProperty("log4j.shutdownHookEnabled") == null) {
            System.setProperty("log4j.shutdownHookEnabled", "false");
        }
        Path home = null;
        Path data = null;
        Path pidFile = null;
        String httpPort = "9200";
        String transportPort = "0";
        Settings.Builder extra = Settings.builder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--home" -> home = Path.of(args[++i]);
                case "--data" -> data = Path.of(args[++i]);
                case "--port" -> httpPort = args[++i];
                case "--transport-port" -> transportPort = args[++i];
                case "--pid-file" -> pidFile = Path.of(args[++i]);
                case "-E" -> {
                    String kv = args[++i];
                    int eq = kv.indexOf('=');
                    if (eq <= 0) throw new IllegalArgumentException("expected -E key=value, got " + kv);
                    extra.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
                default -> throw new IllegalArgumentException("unknown argument: " + a);
            }
        }
        if (home == null) throw new IllegalArgumentException("--home DIR is required");
        home = home.toAbsolutePath();
        if (data == null) data = home.resolve("data");
        Path logs = home.resolve("logs");
        Path config = home.resolve("config");
        Files.createDirectories(data);
        Files.createDirectories(logs);
        Files.createDirectories(config);
        if (pidFile != null) {
            Files.writeString(pidFile, ProcessHandle.current().pid() + "\n");
        }

        Settings settings = Settings.builder()
            .put("cluster.name", "trendcart-local")
            .put("node.name", "trendcart-es")
            .put("path.home", home.toString())
            .put("path.data", data.toAbsolutePath().toString())
            .put("path.logs", logs.toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("discovery.type", "single-node")
            // a dev box with a nearly full disk must not flip indices to read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.destructive_requires_name", false)
            .put(extra.build())
            .build();

        // Log to stdout (the start script redirects it to a file). Our own minimal log4j2 config; an
        // existing config/log4j2.properties under the home directory is left alone and used instead.
        Path log4jConfig = config.resolve("log4j2.properties");
        if (Files.exists(log4jConfig) == false) {
            Files.writeString(log4jConfig, String.join("\n",
                "status = error",
                "appender.console.type = Console",
                "appender.console.name = console",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
                "rootLogger.level = info",
                "rootLogger.appenderRef.console.ref = console",
                ""));
        }
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName("trendcart-es");
        LogConfigurator.setClusterName("trendcart-local");
        LogConfigurator.configureESLogging();

        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), config, () -> "trendcart-es");
        LogConfigurator.configure(environment, true);
        List<Class<? extends Plugin>> plugins = List.of(Netty4Plugin.class, LocalNodePlugin.class);

        final Node node;
        try {
            node = new ClasspathPluginsNode(environment, plugins);
        } catch (Throwable t) {
            // the node's thread pools are non-daemon threads: exit explicitly so the start script sees the failure
            System.err.println("trendcart-es: node construction failed");
            t.printStackTrace();
            org.apache.logging.log4j.LogManager.shutdown();
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                System.out.println("trendcart-es: stopping");
                node.prepareForClose();
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                System.out.println("trendcart-es: stopped");
                org.apache.logging.log4j.LogManager.shutdown();
                stopped.countDown();
            }
        }, "trendcart-es-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            System.err.println("trendcart-es: node start failed");
            t.printStackTrace();
            System.exit(1); // runs the shutdown hook, which closes the node
        }
        System.out.println("trendcart-es: node started, http on 127.0.0.1:" + httpPort);
        stopped.await();
    }
}
