// Starts OpenSearchRunner like its own main() does, but says why it failed.
//
// OpenSearchRunner.main catches every exception and calls System.exit(1)
// without printing anything (a port in use, a bad setting, a locked data
// dir all look the same). This wrapper prints the cause chain to stderr,
// which opensearch.sh sends to $STATE/logs/opensearch.log, then exits 1.
// Compiled once by opensearch.sh fetch into $STATE/cache/opensearch/launcher.

import java.io.IOException;
import org.codelibs.opensearch.runner.OpenSearchRunner;
import org.opensearch.common.logging.LogConfigurator;

public final class Launcher {
    private Launcher() {}

    public static void main(final String[] args) throws InterruptedException {
        // The runner never sets this (its call is commented out), so log4j's
        // %node_name fails; "Node 1" is the name the runner gives node 1.
        LogConfigurator.setNodeName("Node 1");
        final OpenSearchRunner runner = new OpenSearchRunner();
        // SIGTERM from stop: close the node cleanly (flush, release locks).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final IOException e) {
                System.err.println("OpenSearch did not close cleanly: " + e);
            }
        }, "hallway-shutdown"));
        try {
            runner.build(args);
        } catch (final Throwable t) {
            System.err.println("OpenSearch failed to start:");
            t.printStackTrace();
            System.exit(1);
        }
        while (!runner.isClosed()) {
            Thread.sleep(5000);
        }
    }
}
