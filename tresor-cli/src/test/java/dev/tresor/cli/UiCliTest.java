package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.server.TresorServer;
import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.server.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tresor ui in-process against a real server (a tresor init data folder and its admin certificate):
 * the identity comes from the TRESOR_* settings, the URL is printed once, the console answers with
 * that identity, the audit chain of the folder's log is verified and the management address is read.
 */
class UiCliTest {

    @TempDir
    Path tmp;

    @Test
    void theConsoleActsWithTheCliIdentityAndPrintsItsOneTimeUrlOnce() throws Exception {
        Path folder = tmp.resolve("server");
        DataFolder data = new DataFolder(folder);
        DataFolder.AdminCredentials credentials = data.create(new DataFolder.Options("tresor.test", "127.0.0.1:0",
                "127.0.0.1:0", List.of(), "admin", Duration.ofDays(1), null), Clock.systemUTC());
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()));
             HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
            Map<String, String> admin = new HashMap<>();
            admin.put("TRESOR_ADDR", "https://127.0.0.1:" + server.apiPort());
            admin.put("TRESOR_CERT", credentials.cert().toString());
            admin.put("TRESOR_KEY", credentials.key().toString());
            admin.put("TRESOR_CA", credentials.ca().toString());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            CliContext context = CliHarness.context(admin, tmp, out, err);
            Future<Integer> exit = runner.submit(() -> Cli.run(context, "ui", "--port", "0",
                    "--management", "http://127.0.0.1:" + server.managementPort(),
                    "--audit-log", folder.resolve("audit.log").toString(), "--rotation", "openemr/db-slots"));

            Pattern url = Pattern.compile("http://127\\.0\\.0\\.1:\\d+/login\\?token=[A-Za-z0-9_-]{43}");
            Instant deadline = Instant.now().plusSeconds(30);
            Matcher printed;
            while (!(printed = url.matcher(out.toString(StandardCharsets.UTF_8))).find()) {
                assertThat(exit.isDone()).as("tresor ui ended early: " + err.toString(StandardCharsets.UTF_8)).isFalse();
                assertThat(Instant.now()).as("the login URL was not printed").isBefore(deadline);
                Thread.sleep(20);
            }
            URI login = URI.create(printed.group());
            assertThat(out.toString(StandardCharsets.UTF_8).strip()).isEqualTo(login.toString());
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("console for https://127.0.0.1:" + server.apiPort())
                    .doesNotContain(login.getQuery());

            HttpResponse<String> loggedIn = http.send(HttpRequest.newBuilder(login).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(loggedIn.statusCode()).isEqualTo(303);
            String cookie = loggedIn.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
            URI base = URI.create("http://" + login.getAuthority());
            String audit = get(http, base.resolve("/audit"), cookie);
            assertThat(audit).contains("Chain verified").contains("whoami");
            String health = get(http, base.resolve("/health"), cookie);
            assertThat(health).contains("spiffe://tresor.test/").contains("200 ready");
            // The named slot secret is on the Rotation page (it does not exist on this server: the server says so).
            assertThat(get(http, base.resolve("/rotation"), cookie)).contains("openemr/db-slots").contains("does not exist");

            runner.shutdownNow(); // interrupts the command, as Ctrl-C's hook would stop it
            assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(runner.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(listening(base)).as("the console stopped listening").isFalse();
        } finally {
            runner.shutdownNow();
        }
    }

    private static boolean listening(URI base) {
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            return socket.isConnected();
        } catch (java.io.IOException refused) {
            return false;
        }
    }

    private static String get(HttpClient http, URI uri, String cookie) throws Exception {
        HttpResponse<String> reply = http.send(HttpRequest.newBuilder(uri).header("Cookie", cookie).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reply.statusCode()).as(uri + ": " + reply.body()).isEqualTo(200);
        return reply.body();
    }
}
