package dev.tresor.client.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shared transport's failover rules against real mTLS servers (the JDK's HttpsServer, which
 * demands a client certificate): which failures move on to the next node, and which must not
 * because the request may have been applied.
 */
class TresorHttpFailoverTest {

    private static final TestPki PKI = TestPki.create("failover");
    private static final IssuedCert SERVER = PKI.server("127.0.0.1", "localhost");
    private static final IssuedCert CLIENT = PKI.client("spiffe://tresor.test/client");

    private final List<HttpsServer> servers = new ArrayList<>();
    private final List<Integer> pauses = Collections.synchronizedList(new ArrayList<>());

    /** What a node does with a request. */
    private interface Behaviour {
        void answer(HttpExchange exchange) throws IOException;
    }

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    private URI node(Behaviour behaviour, AtomicInteger hits) throws IOException {
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(SERVER.sslContext()) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = getSSLContext().getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        server.createContext("/", exchange -> {
            hits.incrementAndGet();
            try (exchange) {
                behaviour.answer(exchange);
            }
        });
        server.start();
        servers.add(server);
        return URI.create("https://127.0.0.1:" + server.getAddress().getPort());
    }

    private static void json(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("X-Request-Id", "req-" + status);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    /** Reads the request, then drops the connection without an answer: the request may have been applied. */
    private static void dropAfterReading(HttpExchange exchange) throws IOException {
        exchange.getRequestBody().readAllBytes();
        throw new IOException("node dies mid-request");
    }

    private static URI deadNode() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return URI.create("https://127.0.0.1:" + socket.getLocalPort());
        }
    }

    private TresorHttp client(URI... nodes) {
        return new TresorHttp(ServerAddresses.of(nodes), TlsSource.fixed(CLIENT.sslContext()),
                TresorHttp.Options.defaults("test").withBackoff(pauses::add));
    }

    private static ApiRequest write() {
        return ApiRequest.of("PUT", "secrets/a", "{\"value\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aRefusedConnectionIsSkippedEvenForAWrite() throws IOException {
        AtomicInteger hits = new AtomicInteger();
        URI good = node(e -> json(e, 200, "{\"version\":1}"), hits);
        try (TresorHttp http = client(deadNode(), good)) {
            ApiReply reply = http.send(write());
            assertEquals(200, reply.status());
            assertEquals(good, reply.node());
            assertEquals(1, hits.get());
            assertEquals(List.of(1), pauses, "one pause before the second node");
        }
    }

    @Test
    void aWriteWithoutAKeyIsNotSentTwiceWhenANodeDiesMidRequest() throws IOException {
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        URI dying = node(TresorHttpFailoverTest::dropAfterReading, first);
        URI good = node(e -> json(e, 200, "{\"version\":1}"), second);
        try (TresorHttp http = client(dying, good)) {
            TransportException failure = assertThrows(TransportException.class, () -> http.send(write()));
            assertFalse(failure.neverSent(), "the request reached the node");
            assertEquals(dying, failure.node());
            assertEquals(1, first.get());
            assertEquals(0, second.get(), "a write that may have been applied must not go to another node");
        }
    }

    @Test
    void aWriteWithAnIdempotencyKeyAndAReadAreRetriedOnTheNextNode() throws IOException {
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        URI dying = node(TresorHttpFailoverTest::dropAfterReading, first);
        URI good = node(e -> json(e, 200, "{\"version\":1}"), second);
        try (TresorHttp http = client(dying, good)) {
            assertEquals(200, http.send(write().withHeader("Idempotency-Key", "k1")).status());
            assertEquals(200, http.send(ApiRequest.get("secrets/a")).status());
            assertEquals(1, first.get(), "the next request starts at the node that answered last");
            assertEquals(2, second.get());
        }
    }

    @Test
    void a503MovesOnOnlyForRepeatableRequests() throws IOException {
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        URI draining = node(e -> json(e, 503, "{\"error\":\"draining\"}"), first);
        URI good = node(e -> json(e, 200, "{\"ok\":true}"), second);
        try (TresorHttp http = client(draining, good)) {
            ApiReply unkeyed = http.send(write());
            assertEquals(503, unkeyed.status(), "an unkeyed write gets the 503 back, not a second send");
            assertEquals("draining", unkeyed.failure().getMessage());
            assertEquals(0, second.get());
            assertEquals(200, http.send(ApiRequest.get("whoami")).status());
            assertEquals(1, second.get());
        }
    }

    @Test
    void aCallerReSendingAnUnkeyedWriteAfterA503ReachesTheNextNode() throws IOException {
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        URI draining = node(e -> json(e, 503, "{\"error\":\"draining\"}"), first);
        URI good = node(e -> json(e, 200, "{\"version\":1}"), second);
        try (TresorHttp http = client(draining, good)) {
            assertEquals(503, http.send(write()).status());
            ApiReply resent = http.send(write());
            assertEquals(200, resent.status(), "the re-send starts at the node after the one that answered 503");
            assertEquals(good, resent.node());
            assertEquals(1, first.get());
            assertEquals(1, second.get());
        }
    }

    @Test
    void every503IsTheLastAnswerWhenNoNodeCanServe() throws IOException {
        AtomicInteger hits = new AtomicInteger();
        URI a = node(e -> json(e, 503, "{\"error\":\"not ready\",\"requestId\":\"r-a\"}"), hits);
        URI b = node(e -> json(e, 503, "{\"error\":\"not ready\",\"requestId\":\"r-b\"}"), hits);
        try (TresorHttp http = client(a, b)) {
            ApiReply reply = http.send(ApiRequest.get("whoami"));
            assertEquals(503, reply.status());
            assertEquals("r-b", reply.failure().requestId());
            assertEquals(2, hits.get());
        }
    }

    @Test
    void aClientErrorIsNeverRetried() throws IOException {
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        URI a = node(e -> json(e, 403, "{\"error\":\"no grant\",\"requestId\":\"r1\"}"), first);
        URI b = node(e -> json(e, 200, "{}"), second);
        try (TresorHttp http = client(a, b)) {
            ApiException refused = assertThrows(ApiException.class, () -> http.send(ApiRequest.get("secrets/x")).requireJson());
            assertEquals(403, refused.status());
            assertEquals("no grant (request id r1)", refused.describe());
            assertEquals(0, second.get());
        }
    }

    @Test
    void allNodesDownIsATransportFailureNamingTheLastNode() throws IOException {
        URI a = deadNode();
        URI b = deadNode();
        try (TresorHttp http = client(a, b)) {
            TransportException failure = assertThrows(TransportException.class, () -> http.send(ApiRequest.get("whoami")));
            assertTrue(failure.neverSent());
            assertEquals(b, failure.node());
            assertTrue(failure.getMessage().contains(b.toString()), failure.getMessage());
        }
    }

    @Test
    void pathsAndQueriesAreEncodedAndTheBodyIsNeverInTheDescription() throws IOException {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        URI a = node(e -> {
            seen.add(e.getRequestURI().getRawPath() + "?" + e.getRequestURI().getRawQuery());
            json(e, 200, "{}");
        }, new AtomicInteger());
        try (TresorHttp http = client(a)) {
            ApiRequest request = ApiRequest.of("PUT", "secrets/a b/ü", "{\"value\":\"hunter2\"}".getBytes(StandardCharsets.UTF_8))
                    .withQuery(java.util.Map.of("label", "x&y"));
            http.send(request);
            assertEquals(List.of("/v1/secrets/a%20b/%C3%BC?label=x%26y"), seen);
            assertFalse(request.toString().contains("hunter2"));
        }
    }

    @Test
    void addressListsAreCheckedEntryByEntry() {
        assertEquals(2, ServerAddresses.parse("https://a:1/, https://b:2").size());
        assertEquals(URI.create("https://a:1"), ServerAddresses.parse("https://a:1/").first());
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                () -> ServerAddresses.parse("https://a:1,http://b:2"));
        assertTrue(plain.getMessage().contains("'http://b:2'"), plain.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServerAddresses.parse("https://a:1,,https://b:2"));
        assertThrows(IllegalArgumentException.class, () -> ServerAddresses.parse(" "));
    }
}
