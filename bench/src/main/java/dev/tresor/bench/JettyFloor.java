package dev.tresor.bench;

import dev.tresor.ca.TrustMaterial;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The transport floor of a Tresor read: Jetty with exactly the API connector's set-up (same TLS
 * context from the same PEM files, client certificate required, virtual threads, blocking
 * handler) answering every request with a fixed 64-byte body. Measured beside nginx and Tresor,
 * it splits Tresor's cost into "Jetty + JDK TLS" and "Tresor's own work per request".
 *
 * <pre>JettyFloor --port P --cert server.crt --key server.key --ca ca.crt</pre>
 */
public final class JettyFloor {

    private JettyFloor() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        int port = a.integer("port", 0);
        Path cert = a.path("cert");
        Path key = a.path("key");
        Path ca = a.path("ca");
        a.checkAllUsed();
        QueuedThreadPool pool = new QueuedThreadPool(64, 4);
        pool.setName("floor");
        pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        Server server = new Server(pool);
        HttpConfiguration https = new HttpConfiguration();
        https.setSendServerVersion(false);
        https.setSendDateHeader(false);
        https.addCustomizer(new SecureRequestCustomizer(false, false, -1, false));
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setSslContext(TrustMaterial.serverContext(cert, key, ca));
        tls.setNeedClientAuth(true);
        tls.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        byte[] body = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        server.setHandler(new Handler.Abstract(Invocable.InvocationType.BLOCKING) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
                response.write(true, ByteBuffer.wrap(body), callback);
                return true;
            }
        });
        server.start();
        System.out.println("jetty floor listening on 127.0.0.1:" + connector.getLocalPort());
        server.join();
    }
}
