package dev.tresor.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The console's security properties over plain HTTP, against a real server: no browser needed. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UiSecurityTest {

    @TempDir
    static Path dir;

    private UiRig rig;
    private HttpClient http;

    @BeforeAll
    void start() {
        rig = new UiRig(dir);
        http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    void stop() {
        http.close();
        rig.close();
    }

    @Test
    void theLoginTokenWorksOnceAndGivesAStrictHttpOnlyCookie() {
        TresorConsole console = rig.adminConsole();
        URI login = console.loginUrl();
        assertThat(login.getQuery()).matches("token=[A-Za-z0-9_-]{43}"); // 256 bits, base64url

        HttpResponse<String> first = get(login, null);
        assertThat(first.statusCode()).isEqualTo(303);
        assertThat(first.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).endsWith("/secrets"));
        String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith(ConsoleHandler.SESSION_COOKIE + "=").contains("; HttpOnly", "; SameSite=Strict",
                "; Path=/");

        HttpResponse<String> again = get(login, null);
        assertThat(again.statusCode()).isEqualTo(403);
        assertThat(again.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(again.body()).contains("already used");

        // The session works.
        assertThat(get(console.address().resolve("/secrets"), cookie(setCookie)).statusCode()).isEqualTo(200);
    }

    @Test
    void aWrongTokenIsRefusedAndDoesNotBurnTheRightOne() {
        TresorConsole console = rig.adminConsole();
        String token = console.loginUrl().getQuery().substring("token=".length());
        String wrong = (token.charAt(0) == 'A' ? 'B' : 'A') + token.substring(1);
        assertThat(get(console.address().resolve("/login?token=" + wrong), null).statusCode()).isEqualTo(403);
        assertThat(get(console.address().resolve("/login"), null).statusCode()).isEqualTo(403);
        assertThat(get(console.loginUrl(), null).statusCode()).isEqualTo(303);
    }

    @Test
    void withoutASessionEveryPageRedirectsToTheLoginNeededPage() {
        TresorConsole console = rig.adminConsole();
        for (String page : List.of("/", "/secrets", "/secret?name=" + UiRig.GRANTED, "/audit", "/health",
                "/secrets/expiring", "/access")) {
            HttpResponse<String> reply = get(console.address().resolve(page), null);
            assertThat(reply.statusCode()).as(page).isEqualTo(303);
            assertThat(reply.headers().firstValue("Location")).as(page)
                    .hasValueSatisfying(l -> assertThat(l).endsWith("/login-needed"));
        }
        HttpResponse<String> forged = get(console.address().resolve("/secrets"),
                ConsoleHandler.SESSION_COOKIE + "=not-a-session");
        assertThat(forged.statusCode()).isEqualTo(303);
        HttpResponse<String> loginNeeded = get(console.address().resolve("/login-needed"), null);
        assertThat(loginNeeded.statusCode()).isEqualTo(401);
        assertThat(loginNeeded.body()).contains("one-time login URL");
    }

    @Test
    void aPostFromAnotherOriginOrWithoutTheCsrfTokenIsRefusedAndReadsNothing() {
        TresorConsole console = rig.adminConsole();
        String cookie = cookie(get(console.loginUrl(), null).headers().firstValue("Set-Cookie").orElseThrow());
        String page = get(console.address().resolve("/secret?name=" + UiRig.GRANTED), cookie).body();
        String csrf = csrf(page);
        String origin = "http://" + console.address().getAuthority();
        String form = "csrf=" + csrf + "&name=" + URLEncoder.encode(UiRig.GRANTED, StandardCharsets.UTF_8);
        URI reveal = console.address().resolve("/secret/reveal");
        long readsBefore = rig.audited("secret.read", UiRig.GRANTED, "allowed");

        HttpResponse<String> crossOrigin = post(reveal, cookie, "http://evil.example", form);
        assertThat(crossOrigin.statusCode()).isEqualTo(403);
        assertThat(crossOrigin.body()).contains("did not come from a console page").doesNotContain(UiRig.GRANTED_VALUE);
        assertThat(post(reveal, cookie, null, form).statusCode()).isEqualTo(403);
        HttpResponse<String> noCsrf = post(reveal, cookie, origin, "name=" + UiRig.GRANTED);
        assertThat(noCsrf.statusCode()).isEqualTo(403);
        assertThat(noCsrf.body()).contains("CSRF token");
        assertThat(post(reveal, cookie, origin, "csrf=x" + csrf.substring(1) + "&name=" + UiRig.GRANTED).statusCode())
                .isEqualTo(403);
        assertThat(rig.audited("secret.read", UiRig.GRANTED, "allowed")).isEqualTo(readsBefore);

        HttpResponse<String> sameOrigin = post(reveal, cookie, origin, form);
        assertThat(sameOrigin.statusCode()).isEqualTo(200);
        assertThat(sameOrigin.body()).contains(UiRig.GRANTED_VALUE);
        assertThat(rig.audited("secret.read", UiRig.GRANTED, "allowed")).isEqualTo(readsBefore + 1);
    }

    @Test
    void everyAnswerCarriesTheStrictContentSecurityPolicy() {
        TresorConsole console = rig.adminConsole();
        String cookie = cookie(get(console.loginUrl(), null).headers().firstValue("Set-Cookie").orElseThrow());
        for (String page : List.of("/secrets", "/secrets/expiring", "/secret?name=" + UiRig.GRANTED, "/audit", "/health",
                "/access?secret=" + UiRig.GRANTED, "/static/console.css", "/static/console.js", "/no-such-page", "/secrets/expiring?days=abc")) {
            HttpResponse<String> reply = get(console.address().resolve(page), cookie);
            assertThat(reply.headers().firstValue("Content-Security-Policy")).as(page)
                    .hasValue(SecurityHeaders.CONTENT_SECURITY_POLICY);
            assertThat(reply.headers().firstValue("X-Content-Type-Options")).as(page).hasValue("nosniff");
            assertThat(reply.headers().firstValue("Cache-Control")).as(page).hasValue("no-store");
            assertThat(reply.body()).as(page).doesNotContain("<script>", "Exception", "\tat ", " style=\"");
        }
        assertThat(SecurityHeaders.CONTENT_SECURITY_POLICY).startsWith("default-src 'self'")
                .doesNotContain("unsafe-inline", "unsafe-eval", "http:", "https:");
        for (String page : List.of("/login-needed", "/login?token=nope")) {
            assertThat(get(console.address().resolve(page), null).headers().firstValue("Content-Security-Policy"))
                    .as(page).hasValue(SecurityHeaders.CONTENT_SECURITY_POLICY);
        }
    }

    @Test
    void badInputIsAFourHundredPageWithAClearMessage() {
        TresorConsole console = rig.adminConsole();
        String cookie = cookie(get(console.loginUrl(), null).headers().firstValue("Set-Cookie").orElseThrow());
        HttpResponse<String> days = get(console.address().resolve("/secrets/expiring?days=abc"), cookie);
        assertThat(days.statusCode()).isEqualTo(400);
        assertThat(days.body()).contains("days").contains("whole number");
        HttpResponse<String> noName = get(console.address().resolve("/secret"), cookie);
        assertThat(noName.statusCode()).isEqualTo(400);
        assertThat(noName.body()).contains("The field &#39;name&#39; is required");
        assertThat(get(console.address().resolve("/no-such-page"), cookie).statusCode()).isEqualTo(404);
    }

    @Test
    void aForeignHostHeaderIsRefused() throws IOException {
        TresorConsole console = rig.adminConsole();
        // A DNS-rebinding page would reach 127.0.0.1 under its own name.
        try (Socket socket = new Socket("127.0.0.1", console.address().getPort())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /login-needed HTTP/1.1\r\nHost: rebind.example:" + console.address().getPort()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 421");
        }
    }

    @Test
    void aRequestJettyRefusesItselfStillCarriesTheSecurityHeadersAndNoStackTrace() throws IOException {
        TresorConsole console = rig.adminConsole();
        try (Socket socket = new Socket("127.0.0.1", console.address().getPort())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            // A header far beyond Jetty's limit: refused (431) before the console's handler runs.
            out.write(("GET /secrets HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(64 * 1024)
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 431");
            assertThat(answer).contains("Content-Security-Policy: " + SecurityHeaders.CONTENT_SECURITY_POLICY)
                    .contains("request headers too large").doesNotContain("<html", "Exception", "\tat ");
        }
    }

    @Test
    void aNonLoopbackBindIsRefusedUnlessExplicitlyAllowed() {
        ConsoleSettings settings = rig.settings(rig.server.admin());
        assertThatThrownBy(() -> TresorConsole.start(settings.withListen("0.0.0.0", 0, false)))
                .isInstanceOf(ConsoleException.class).hasMessageContaining("refusing to listen on 0.0.0.0")
                .hasMessageContaining("--allow-remote");
        assertThatThrownBy(() -> TresorConsole.checkListenAddress("0.0.0.0", false)).isInstanceOf(ConsoleException.class);
        TresorConsole.checkListenAddress("127.0.0.1", false);
        TresorConsole.checkListenAddress("::1", false);
        TresorConsole allowed = rig.start(settings.withListen("0.0.0.0", 0, true));
        assertThat(allowed.loopback()).isFalse();
        assertThat(rig.start(settings).loopback()).isTrue();
        assertThat(rig.start(settings).address().getHost()).isEqualTo("127.0.0.1");
    }

    // ------------------------------------------------------------------ helpers

    static String csrf(String html) {
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
        assertThat(m.find()).as("a CSRF field in the page").isTrue();
        return m.group(1);
    }

    private static String cookie(String setCookie) {
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private HttpResponse<String> get(URI uri, String cookie) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET();
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        return send(request.build());
    }

    private HttpResponse<String> post(URI uri, String cookie, String origin, String form) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", cookie)
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (origin != null) {
            request.header("Origin", origin);
        }
        return send(request.build());
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
