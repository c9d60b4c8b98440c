package dev.trendcart.es;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.util.SetOnce;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Our own plugin for the local node. It fills two gaps left by Elasticsearch modules that are not
 * published to Maven Central:
 *  - "rest-root": GET / and HEAD / (see RootInfoHandler);
 *  - "analysis-common": a deliberately small subset, below.
 *
 * Analysis part: Everything here is a thin wrapper around Lucene classes
 * from lucene-analysis-common (a dependency of the Elasticsearch server jar).
 *
 * Provides: analyzer "cjk"; tokenizers "keyword", "whitespace"; token filters "cjk_bigram",
 * "cjk_width", "asciifolding". Custom settings of these components (e.g. cjk_bigram
 * ignored_scripts, a custom stopword list for cjk) are NOT supported.
 * The server itself already provides: analyzers standard/simple/stop/whitespace/keyword/classic,
 * tokenizer "standard", token filters "lowercase", "stop", "shingle".
 */
public class LocalNodePlugin extends Plugin implements AnalysisPlugin, ActionPlugin {

    private final SetOnce<ClusterService> clusterService = new SetOnce<>();

    @Override
    public Collection<?> createComponents(PluginServices services) {
        clusterService.set(services.clusterService());
        return List.of();
    }

    @Override
    public Collection<RestHandler> getRestHandlers(
        Settings settings,
        NamedWriteableRegistry namedWriteableRegistry,
        RestController restController,
        ClusterSettings clusterSettings,
        IndexScopedSettings indexScopedSettings,
        SettingsFilter settingsFilter,
        IndexNameExpressionResolver indexNameExpressionResolver,
        Supplier<DiscoveryNodes> nodesInCluster,
        Predicate<NodeFeature> clusterSupportsFeature
    ) {
        return List.of(new RootInfoHandler());
    }

    /**
     * GET / and HEAD / (the client's info() and ping()). In the Elasticsearch distribution these come
     * from the "rest-root" module, which is not on Maven Central; this is our own minimal version that
     * answers with the same top-level fields.
     */
    private final class RootInfoHandler extends BaseRestHandler {
        @Override
        public String getName() {
            return "trendcart_root_info";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            return channel -> {
                ClusterService cs = clusterService.get();
                ClusterState state = cs.state();
                Build build = Build.current();
                XContentBuilder b = channel.newBuilder();
                b.startObject();
                b.field("name", cs.localNode().getName());
                b.field("cluster_name", state.getClusterName().value());
                b.field("cluster_uuid", state.metadata().clusterUUID());
                b.startObject("version");
                b.field("number", build.qualifiedVersion());
                b.field("build_flavor", build.flavor());
                b.field("build_type", build.type().displayName());
                b.field("build_hash", build.hash());
                b.field("build_date", build.date());
                b.field("build_snapshot", build.isSnapshot());
                b.field("lucene_version", org.apache.lucene.util.Version.LATEST.toString());
                b.field("minimum_wire_compatibility_version", build.minWireCompatVersion());
                b.field("minimum_index_compatibility_version", build.minIndexCompatVersion());
                b.endObject();
                b.field("tagline", "You Know, for Search");
                b.endObject();
                channel.sendResponse(new RestResponse(RestStatus.OK, b));
            };
        }
    }


    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of("cjk", (indexSettings, environment, name, settings) -> new CjkAnalyzerProvider(name, settings));
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of(
            "keyword", (indexSettings, environment, name, settings) -> TokenizerFactory.newFactory(name, KeywordTokenizer::new),
            "whitespace", (indexSettings, environment, name, settings) -> TokenizerFactory.newFactory(name, WhitespaceTokenizer::new)
        );
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "cjk_bigram", (indexSettings, environment, name, settings) -> new SimpleFilter(name, settings, CJKBigramFilter::new),
            "cjk_width", (indexSettings, environment, name, settings) -> new SimpleFilter(name, settings, CJKWidthFilter::new),
            "asciifolding", (indexSettings, environment, name, settings) -> new SimpleFilter(name, settings, ASCIIFoldingFilter::new)
        );
    }

    private static final class CjkAnalyzerProvider extends AbstractIndexAnalyzerProvider<CJKAnalyzer> {
        private final CJKAnalyzer analyzer = new CJKAnalyzer();

        CjkAnalyzerProvider(String name, Settings settings) {
            super(name, settings);
        }

        @Override
        public CJKAnalyzer get() {
            return analyzer;
        }
    }

    private static final class SimpleFilter extends AbstractTokenFilterFactory {
        private final java.util.function.Function<TokenStream, TokenStream> wrap;

        SimpleFilter(String name, Settings settings, java.util.function.Function<TokenStream, TokenStream> wrap) {
            super(name, settings);
            this.wrap = wrap;
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return wrap.apply(tokenStream);
        }
    }
}
