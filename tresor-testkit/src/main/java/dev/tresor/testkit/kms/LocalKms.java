package dev.tresor.testkit.kms;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local stand-in for AWS KMS, for tests: it speaks KMS's JSON protocol (POST /, {@code
 * X-Amz-Target: TrentService.Encrypt|Decrypt|GenerateDataKey|DescribeKey}, {@code Content-Type:
 * application/x-amz-json-1.1}, errors as {@code {"__type": ..., "message": ...}}), checks each
 * request's SigV4 signature against its one pair of test credentials ({@link SigV4Check}),
 * encrypts with real AES-GCM binding the encryption context ({@link KmsKeys}), and can be told to
 * refuse access, to throttle, or to be down ({@link #down}: the port is closed until {@link #up}).
 * It counts the requests per operation, so a test can show that a read makes none.
 *
 * <p>Plain HTTP on 127.0.0.1 only; nothing here is a KMS anyone should trust.
 */
public final class LocalKms implements AutoCloseable {

    public static final String ACCESS_KEY = "AKIATRESORTEST000001";
    private static final String ACCOUNT = "111122223333";

    private final ObjectMapper json = new ObjectMapper();
    private final String region;
    private final String secretKey;
    private final KmsKeys keys;
    private final KmsOperations operations;
    private final SigV4Check signatures;
    private final KmsFaults faults = new KmsFaults();
    private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final int port;
    private HttpServer server;

    private LocalKms(String region, String secretKey, HttpServer server) {
        this.region = region;
        this.secretKey = secretKey;
        this.keys = new KmsKeys(region, ACCOUNT);
        this.operations = new KmsOperations(keys);
        this.signatures = new SigV4Check(Map.of(ACCESS_KEY, secretKey), region);
        this.port = server.getAddress().getPort();
        serve(server);
    }

    /** A local KMS for {@code region} on a free port of 127.0.0.1, with a random secret key for {@link #ACCESS_KEY}. */
    public static LocalKms start(String region) {
        byte[] secret = new byte[30];
        new java.security.SecureRandom().nextBytes(secret);
        return new LocalKms(region, java.util.Base64.getEncoder().encodeToString(secret), bind(0));
    }

    private static HttpServer bind(int port) {
        try {
            return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the local KMS to 127.0.0.1:" + port, e);
        }
    }

    private synchronized void serve(HttpServer bound) {
        bound.createContext("/", this::handle);
        bound.setExecutor(executor);
        bound.start();
        server = bound;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public String region() {
        return region;
    }

    /** What the SDK's default credentials chain reads from the environment: the test key pair and the region. */
    public Map<String, String> environment() {
        return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", secretKey, "AWS_REGION", region);
    }

    /** A new symmetric key; its ARN. */
    public String createKey() {
        return keys.create();
    }

    /** Also names the key {@code arn} as {@code alias} ("alias/NAME"). */
    public void alias(String alias, String arn) {
        keys.alias(alias, arn);
    }

    /** From now on every request is refused with AccessDeniedException (or, with false, no longer). */
    public void denyAccess(boolean deny) {
        faults.denyAccess(deny);
    }

    /** The next {@code requests} signed requests get ThrottlingException. */
    public void throttle(int requests) {
        faults.throttle(requests);
    }

    /** Every signed request gets ThrottlingException until {@code throttle(0)}. */
    public void throttleAlways() {
        faults.throttle(KmsFaults.ALWAYS);
    }

    /** Closes the port: connections are refused, as to a KMS endpoint that cannot be reached. */
    public synchronized void down() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** Listens again on the same port, with the same keys. */
    public synchronized void up() {
        if (server == null) {
            serve(bind(port));
        }
    }

    /** How many requests of {@code operation} (e.g. "Decrypt") were answered, successfully or not, after a valid signature. */
    public long calls(String operation) {
        AtomicLong n = calls.get(operation);
        return n == null ? 0 : n.get();
    }

    /** All operations' counts. */
    public long calls() {
        return calls.values().stream().mapToLong(AtomicLong::get).sum();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Map<String, String> headers = SigV4Check.lowerCase(exchange.getRequestHeaders());
            String target = headers.getOrDefault("x-amz-target", "");
            if (!"POST".equals(exchange.getRequestMethod()) || !target.startsWith("TrentService.")
                    || !headers.getOrDefault("content-type", "").startsWith("application/x-amz-json-1.1")) {
                send(exchange, new KmsError(400, "UnknownOperationException", null));
                return;
            }
            KmsError refused = signatures.check("POST", exchange.getRequestURI().getRawPath(), headers, body);
            if (refused != null) {
                send(exchange, refused);
                return;
            }
            String operation = target.substring("TrentService.".length());
            calls.computeIfAbsent(operation, o -> new AtomicLong()).incrementAndGet();
            @SuppressWarnings("unchecked")
            Map<String, Object> request = body.length == 0 ? Map.of() : json.readValue(body, Map.class);
            KmsError fault = faults.next(operation, operations.resource(request));
            if (fault != null) {
                send(exchange, fault);
                return;
            }
            KmsOperations.Answer answer = operations.apply(operation, request);
            if (answer.error() != null) {
                send(exchange, answer.error());
            } else {
                send(exchange, 200, json.writeValueAsBytes(answer.body()));
            }
        }
    }

    private void send(HttpExchange exchange, KmsError error) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("__type", error.type());
        if (error.message() != null) {
            body.put("message", error.message());
        }
        send(exchange, error.status(), json.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        exchange.getResponseHeaders().set("x-amzn-RequestId", java.util.UUID.randomUUID().toString());
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        down();
        executor.close();
    }

    @Override
    public String toString() {
        return "LocalKms[" + endpoint() + ", " + region + "]";
    }

}
