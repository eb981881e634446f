package dev.tresor.client.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.util.Arrays;

/**
 * What one node answered, whatever the status. The body may hold a secret value: whoever is done
 * with it calls {@link #wipe()}.
 */
public record ApiReply(int status, byte[] body, String contentType, String requestId, URI node) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public boolean ok() {
        return status >= 200 && status < 300;
    }

    /** The body as JSON; a body that is not JSON is an {@link ApiException} naming the status. */
    public JsonNode json() {
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null) {
                throw new IOException("empty body");
            }
            return node;
        } catch (IOException e) {
            throw new ApiException(status, "the server answered HTTP " + status + " with a body that is not JSON", requestId);
        }
    }

    /** The server's error, from its {@code {"error": ..., "requestId": ...}} body, or a generic one. */
    public ApiException failure() {
        String message = null;
        String id = requestId;
        if (contentType != null && contentType.startsWith(ApiRequest.JSON)) {
            try {
                JsonNode error = JSON.readTree(body);
                if (error != null && error.hasNonNull("error")) {
                    message = error.get("error").asText();
                }
                if (error != null && error.hasNonNull("requestId")) {
                    id = error.get("requestId").asText();
                }
            } catch (IOException e) {
                // fall through to the generic message
            }
        }
        return new ApiException(status, message == null ? "the server answered HTTP " + status : message, id);
    }

    /** The JSON body of a 2xx answer, or the server's error as an exception. */
    public JsonNode requireJson() {
        if (!ok()) {
            throw failure();
        }
        return json();
    }

    public void wipe() {
        Arrays.fill(body, (byte) 0);
    }
}
