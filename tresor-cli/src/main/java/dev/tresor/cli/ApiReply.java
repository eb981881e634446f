package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/**
 * One HTTP answer from the API. The body may hold a secret value: callers that print it wipe it
 * afterwards with {@link #wipe()}.
 */
record ApiReply(int status, byte[] body, String contentType, String requestId) {

    boolean ok() {
        return status >= 200 && status < 300;
    }

    JsonNode json() {
        try {
            return Json.parse(body);
        } catch (IOException e) {
            throw CliException.error("the server answered HTTP " + status + " with a body that is not JSON"
                    + (requestId == null ? "" : " (request id " + requestId + ")"));
        }
    }

    void wipe() {
        java.util.Arrays.fill(body, (byte) 0);
    }
}
