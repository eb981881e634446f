package dev.tresor.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tresor.model.Failure;
import dev.tresor.model.Names;
import dev.tresor.model.TresorException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.UrlEncoded;

/**
 * Fuzzes what a client controls before any route runs: the JSON request bodies and the request
 * target (path and query). {@link ApiHandler} turns a {@link TresorException} into its 4xx and
 * anything else into a 500, so "only TresorException with a 4xx failure" here means "never a
 * 5xx" there. Seeds: src/test/resources/dev/tresor/api/ApiInputFuzzTestInputs/METHOD/.
 */
class ApiInputFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void putSecretBody(byte[] body) {
        parse(body, ApiBodies.PutSecretBody.class);
    }

    @FuzzTest(maxDuration = "10s")
    void labelBody(byte[] body) {
        parse(body, ApiBodies.LabelBody.class);
    }

    @FuzzTest(maxDuration = "10s")
    void groupAndMembershipBodies(byte[] body) {
        parse(body, ApiBodies.GroupBody.class);
        parse(body, ApiBodies.MembershipBody.class);
        ApiBodies.MembershipBody m = parse(body, ApiBodies.MembershipBody.class);
        if (m != null) {
            try {
                dev.tresor.model.Role.parse(m.role());
            } catch (TresorException e) {
                assertClientError(e);
            }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void clientAndSignBodies(byte[] body) {
        parse(body, ApiBodies.ClientBody.class);
        parse(body, ApiBodies.SignBody.class);
    }

    /**
     * A request target "PATH?QUERY" as ApiHandler sees it: path split, action and secret name
     * derived, the name checked, the query decoded as Jetty does and the typed parameters read.
     */
    @FuzzTest(maxDuration = "10s")
    void requestTarget(byte[] input) {
        String target = new String(input, StandardCharsets.UTF_8);
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        for (String method : List.of("GET", "PUT", "POST", "DELETE")) {
            try {
                List<String> segments = ApiHandler.pathSegments(path);
                String action = Routes.action(method, segments);
                String secret = Routes.secretOf(action, segments);
                if (secret != null) {
                    Names.secret(secret);
                }
                Exchange ex = new Exchange(method, segments, query(query), () -> new byte[0], null);
                ex.intParam("version");
                ex.intParam("limit");
                ex.boolParam("allowExpired");
                ex.boolParam("destroy");
                ex.param("label");
            } catch (TresorException e) {
                assertClientError(e);
            }
        }
    }

    /** As ApiHandler.query: Jetty's decoder, a malformed string or a repeated parameter is a 400. */
    private static Map<String, String> query(String raw) {
        Fields fields = new Fields();
        try {
            UrlEncoded.decodeUtf8To(raw, fields);
        } catch (RuntimeException e) {
            throw TresorException.badRequest("malformed query string");
        }
        Map<String, String> out = new HashMap<>();
        for (Fields.Field f : fields) {
            if (f.getValues().size() > 1) {
                throw TresorException.badRequest("query parameter '" + f.getName() + "' is given more than once");
            }
            out.put(f.getName(), f.getValue());
        }
        return out;
    }

    private static <T> T parse(byte[] body, Class<T> type) {
        try {
            return Json.parse(body, type);
        } catch (TresorException e) {
            assertClientError(e);
            return null;
        }
    }

    private static void assertClientError(TresorException e) {
        assertThat(e.failure().httpStatus()).as("status for: %s", e.getMessage()).isBetween(400, 499);
        assertThat(e.failure()).isNotEqualTo(Failure.INTEGRITY);
        assertThat(e.getMessage()).isNotBlank().doesNotContain("Exception").doesNotContain("dev.tresor.");
    }
}
