package dev.tresor.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** A sequential API client on one keep-alive connection (reconnects when the server closes it). */
final class ApiClient implements AutoCloseable {

    /** A response with its body as text. */
    record Reply(int status, String body) {}

    private final Endpoint endpoint;
    private HttpConnection connection;

    ApiClient(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    Reply call(String method, String path, String json) {
        byte[] body = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
        byte[] request = HttpConnection.request(method, path, "application/json", "application/json", body);
        IOException last = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                if (connection == null) {
                    connection = HttpConnection.open(endpoint, 30_000);
                }
                HttpConnection.Response r = connection.exchange(request, true);
                if (r.close()) {
                    close();
                }
                return new Reply(r.status(), new String(r.body(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                last = e;
                close();
            }
        }
        throw new UncheckedIOException(method + " " + path + " failed", last);
    }

    /** Calls and insists on a 2xx answer. */
    Reply ok(String method, String path, String json) {
        Reply r = call(method, path, json);
        if (r.status() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " -> " + r.status() + " " + r.body());
        }
        return r;
    }

    static String quote(String s) {
        return Reports.json(s);
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }
}
