package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.ConsumerConfig;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * An HTTP health check of the application: after delivery the rotation waits until it answers the
 * expected status, and validation checks it once more. Redirects are not followed.
 */
public final class HttpCheckConsumer implements Consumer {

    private static final Duration POLL = Duration.ofMillis(100);

    private final ConsumerConfig.HttpCheck config;
    private final HttpClient http;

    public HttpCheckConsumer(ConsumerConfig.HttpCheck config) {
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(config.timeout()).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    @Override
    public String describe() {
        return config.describe();
    }

    @Override
    public void deliver(DbCredentials credentials, Slot slot) {
        // Nothing to deliver: this consumer only checks.
    }

    @Override
    public boolean fatal() {
        return config.fatal();
    }

    private String status() {
        try {
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(config.url()).timeout(config.timeout()).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == config.expectStatus() ? null : "answered HTTP " + response.statusCode()
                    + " (expected " + config.expectStatus() + ")";
        } catch (IOException e) {
            return "cannot be reached: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public void awaitReady(Duration timeout) throws ConsumerFailure {
        long deadline = System.nanoTime() + timeout.toNanos();
        String problem;
        while ((problem = status()) != null) {
            if (System.nanoTime() - deadline >= 0) {
                throw new ConsumerFailure(describe() + " " + problem + " for " + timeout.toMillis() + " ms after delivery");
            }
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConsumerFailure(describe() + ": interrupted while waiting");
            }
        }
    }

    @Override
    public void check() throws ConsumerFailure {
        String problem = status();
        if (problem != null) {
            throw new ConsumerFailure(describe() + " " + problem);
        }
    }

    @Override
    public List<String> preflight() {
        String problem = status();
        return problem == null ? List.of() : List.of(describe() + " " + problem);
    }
}
