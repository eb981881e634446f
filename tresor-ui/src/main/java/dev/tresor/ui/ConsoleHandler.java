package dev.tresor.ui;

import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.FormFields;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every request to the console: security headers, the Host check, login, the session check, the
 * CSRF and Origin checks of every POST, then the page. A page that fails answers with an error page
 * naming what went wrong; a stack trace never reaches the browser.
 */
final class ConsoleHandler extends Handler.Abstract {

    private static final Logger LOG = LoggerFactory.getLogger(ConsoleHandler.class);
    static final String SESSION_COOKIE = "tresor_ui_session";
    static final String CSRF_FIELD = "csrf";
    private static final int MAX_FORM_FIELDS = 20;
    private static final int MAX_FORM_BYTES = 1024 * 1024;

    /** One request after the checks: its query, its form (POST), and the session. */
    private record Call(Request request, Response response, Callback callback, Fields query, Fields form,
                        Sessions.Session session) {

        String param(String name) {
            Fields.Field field = form != null && form.get(name) != null ? form.get(name) : query.get(name);
            return field == null ? "" : field.getValue().strip();
        }
    }

    private final Sessions sessions;
    private final Pages pages;
    private final StaticAssets assets;
    private final SecretsView secrets;
    private final AuditView audit;
    private final HealthView health;
    private final AccessView access;
    private final RotationView rotations;
    private final List<String> rotationSlots;
    /** The host names (without port) the console answers to; the port must be the connection's own. */
    private final Set<String> allowedHostNames;

    ConsoleHandler(Sessions sessions, Pages pages, StaticAssets assets, SecretsView secrets, AuditView audit,
                   HealthView health, AccessView access, RotationView rotations, List<String> rotationSlots,
                   Set<String> allowedHostNames) {
        this.sessions = sessions;
        this.pages = pages;
        this.assets = assets;
        this.secrets = secrets;
        this.audit = audit;
        this.health = health;
        this.access = access;
        this.rotations = rotations;
        this.rotationSlots = List.copyOf(rotationSlots);
        this.allowedHostNames = Set.copyOf(allowedHostNames);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        SecurityHeaders.apply(response.getHeaders());
        try {
            route(request, response, callback);
        } catch (BadInput e) {
            page(response, callback, e.status(), "message", Map.of("title", "Cannot do that", "message", e.getMessage()));
        } catch (RuntimeException e) {
            // The class only: a message could quote request content.
            LOG.warn("console page failed: {}", e.getClass().getName());
            page(response, callback, 500, "message", Map.of("title", "Internal error",
                    "message", "The console could not build this page (" + e.getClass().getSimpleName()
                            + "); see the terminal it runs in."));
        }
        return true;
    }

    private void route(Request request, Response response, Callback callback) {
        String host = request.getHeaders().get(HttpHeader.HOST);
        // A DNS-rebinding page reaches us under its own host name: answer only to the names we listen on.
        int port = Request.getLocalPort(request);
        if (host == null || allowedHostNames.stream().noneMatch(name -> host.equalsIgnoreCase(name + ":" + port))) {
            throw new BadInput(421, "This console answers only as " + allowedHostNames.stream().sorted()
                    .map(name -> name + ":" + port).toList() + "; open the address printed on the terminal.");
        }
        String path = request.getHttpURI().getPath();
        String method = request.getMethod();
        if (method.equals("GET") && path.startsWith("/static/")) {
            StaticAssets.Asset asset = assets.find(path).orElseThrow(() -> new BadInput(404, "No such asset."));
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, asset.contentType());
            response.setStatus(200);
            response.write(true, ByteBuffer.wrap(asset.bytes()), callback);
            return;
        }
        Fields query = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
        if (method.equals("GET") && path.equals("/login")) {
            login(request, response, callback, query);
            return;
        }
        if (method.equals("GET") && path.equals("/login-needed")) {
            page(response, callback, 401, "message", Map.of("title", "Log in from the terminal",
                    "message", "This console has no session for you. Open the one-time login URL that `tresor ui`"
                            + " printed on its terminal; restart `tresor ui` for a new one if it was used."));
            return;
        }
        Optional<Sessions.Session> session = sessions.find(cookie(request));
        if (session.isEmpty()) {
            Response.sendRedirect(request, response, callback, 303, "/login-needed", true);
            return;
        }
        Fields form = null;
        if (method.equals("POST")) {
            form = checkedForm(request, session.get());
        } else if (!method.equals("GET")) {
            throw new BadInput(405, "The console answers GET and POST only.");
        }
        Call call = new Call(request, response, callback, query, form, session.get());
        switch (method + " " + path) {
            case "GET /" -> redirect(call, "/secrets");
            case "GET /secrets" -> secretsPage(call);
            case "GET /secrets/expiring" -> expiringPage(call);
            case "GET /secret" -> secretPage(call, null, null);
            case "POST /secret/reveal" -> reveal(call);
            case "POST /secret/version" -> act(call, "version added", name -> secrets.addVersion(name, call.param("value")));
            case "POST /secret/label" -> act(call, "label moved", name -> secrets.moveLabel(name, required(call, "label"),
                    number(call, "version")));
            case "POST /secret/delete" -> {
                String name = required(call, "name");
                if (!call.param("confirm").equals(name)) {
                    secretPage(call, null, "Not deleted: type the secret's full name to confirm.");
                } else {
                    act(call, "deleted (soft; restore brings it back)", secrets::softDelete);
                }
            }
            case "POST /secret/restore" -> act(call, "restored", secrets::restore);
            case "GET /audit" -> auditPage(call);
            case "GET /health" -> healthPage(call);
            case "GET /access" -> accessPage(call);
            case "GET /rotation" -> rotationPage(call, null, null);
            case "POST /rotation/active-slot" -> {
                String name = required(call, "name");
                rotationPage(call, name, rotations.activeSlot(name));
            }
            case "POST /logout" -> {
                sessions.end(call.session());
                response.getHeaders().add(HttpHeader.SET_COOKIE, SESSION_COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
                redirect(call, "/login-needed");
            }
            default -> throw new BadInput(404, "No such page: " + path);
        }
    }

    // ------------------------------------------------------------------ login and checks

    private void login(Request request, Response response, Callback callback, Fields query) {
        Fields.Field token = query.get("token");
        Optional<Sessions.Session> session = sessions.redeem(token == null ? null : token.getValue());
        if (session.isEmpty()) {
            page(response, callback, 403, "message", Map.of("title", "Login link not valid",
                    "message", "This login link is wrong, expired or was already used (it works once). Restart"
                            + " `tresor ui` for a new one."));
            return;
        }
        response.getHeaders().add(HttpHeader.SET_COOKIE, setCookie(session.get().id()));
        Response.sendRedirect(request, response, callback, 303, "/secrets", true);
    }

    /** Written by hand: the header must say exactly HttpOnly, SameSite=Strict and Path=/, nothing looser. */
    static String setCookie(String value) {
        return SESSION_COOKIE + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
    }

    private static String cookie(Request request) {
        for (HttpCookie cookie : Request.getCookies(request)) {
            if (cookie.getName().equals(SESSION_COOKIE)) {
                return cookie.getValue();
            }
        }
        return null;
    }

    /**
     * A state-changing request must come from a console page: the browser's Origin must be the console's
     * own, and the form must carry the session's CSRF token. Either alone would do against most
     * attacks; both together cover old browsers and a token leaked through a screenshot.
     */
    private Fields checkedForm(Request request, Sessions.Session session) {
        // The (bounded) form is read before the checks: a refusal that left the body unread would make
        // Jetty close the connection under a client that may already be reusing it.
        Fields form;
        try {
            form = FormFields.getFields(request, MAX_FORM_FIELDS, MAX_FORM_BYTES);
        } catch (RuntimeException e) {
            throw BadInput.badRequest("The form could not be read (too large or malformed).");
        }
        String origin = request.getHeaders().get(HttpHeader.ORIGIN);
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (origin == null || !origin.equalsIgnoreCase("http://" + host)) {
            throw new BadInput(403, "Refused: this request did not come from a console page (Origin "
                    + (origin == null ? "missing" : "'" + origin + "'") + ").");
        }
        Fields.Field csrf = form.get(CSRF_FIELD);
        if (csrf == null || !Sessions.constantTimeEquals(session.csrf(), csrf.getValue())) {
            throw new BadInput(403, "Refused: the form's CSRF token is missing or wrong; reload the page and try again.");
        }
        return form;
    }

    // ------------------------------------------------------------------ pages

    private void secretsPage(Call call) {
        String prefix = call.param("prefix");
        SecretsView.Listing listing = secrets.list(prefix.isEmpty() ? null : prefix);
        Map<String, Object> model = model(call, "secrets", "Secrets");
        model.put("prefix", prefix);
        model.put("rows", SecretsView.tree(listing.secrets()));
        model.put("count", listing.secrets().size());
        model.put("error", listing.error());
        page(call.response(), call.callback(), 200, "secrets", model);
    }

    private void expiringPage(Call call) {
        String daysText = call.param("days");
        int days = daysText.isEmpty() ? 7 : number(call, "days");
        if (days < 0 || days > 3650) {
            throw BadInput.badRequest("days must be between 0 and 3650.");
        }
        SecretsView.Expiring expiring = secrets.expiring(Duration.ofDays(days));
        Map<String, Object> model = model(call, "expiring", "Expiring soon");
        model.put("days", days);
        model.put("rows", expiring.rows());
        model.put("truncated", expiring.truncated());
        model.put("scanLimit", SecretsView.EXPIRY_SCAN_LIMIT);
        model.put("error", expiring.error());
        page(call.response(), call.callback(), 200, "expiring", model);
    }

    private void secretPage(Call call, SecretsView.Reveal reveal, String problem) {
        String name = required(call, "name");
        Optional<com.fasterxml.jackson.databind.JsonNode> meta = secrets.meta(name);
        Integer current = meta.map(m -> m.path("currentVersion").isNumber() ? m.path("currentVersion").asInt() : null)
                .orElse(null);
        SecretsView.Versions versions = secrets.versions(name, current);
        Map<String, Object> model = model(call, "secrets", name);
        model.put("name", name);
        model.put("found", meta.isPresent());
        meta.ifPresent(m -> {
            model.put("description", m.path("description").asText(""));
            model.put("groups", SecretsView.joined(m.path("groups")));
            model.put("labels", SecretsView.labels(m.path("labels")));
            model.put("createdBy", m.path("createdBy").asText(""));
            model.put("createdAt", m.path("createdAt").asText(""));
            model.put("deleted", !m.path("deletedAt").isNull() && !m.path("deletedAt").isMissingNode());
            model.put("deletedAt", m.path("deletedAt").asText(""));
            model.put("current", current);
        });
        model.put("versions", versions.rows());
        model.put("versionsError", versions.error());
        model.put("reveal", reveal);
        model.put("problem", problem);
        model.put("notice", call.param("done"));
        page(call.response(), call.callback(), 200, "secret", model);
    }

    private void reveal(Call call) {
        String name = required(call, "name");
        String version = call.param("version");
        SecretsView.Reveal reveal = secrets.reveal(name, version.isEmpty() ? null : number(call, "version"));
        secretPage(call, reveal, null);
    }

    /** A write action, then back to the secret's page (Post/Redirect/Get), or the page with the server's refusal. */
    private void act(Call call, String done, java.util.function.Function<String, String> action) {
        String name = required(call, "name");
        String refusal = action.apply(name);
        if (refusal != null) {
            secretPage(call, null, "Refused by the server: " + refusal);
            return;
        }
        redirect(call, "/secret?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "&done="
                + URLEncoder.encode(done, StandardCharsets.UTF_8));
    }

    private void auditPage(Call call) {
        AuditView.Filter filter = new AuditView.Filter(call.param("client"), call.param("secret"), call.param("action"),
                call.param("outcome"), call.param("since"), call.param("until"));
        AuditView.Result result = audit.query(filter);
        Map<String, Object> model = model(call, "audit", "Audit");
        model.put("filter", filter);
        model.put("rows", result.rows());
        model.put("more", result.more());
        model.put("error", result.error());
        model.put("chain", result.chain());
        model.put("actions", List.of("secret.read", "secret.write", "secret.versions", "secret.list", "secret.label",
                "secret.delete", "secret.restore", "grant.add", "grant.remove", "group.create", "group.member.add",
                "client.create", "audit.read", "whoami"));
        model.put("outcomes", List.of("allowed", "denied", "error", "tamper", "rejected", "intent"));
        page(call.response(), call.callback(), 200, "audit", model);
    }

    private void accessPage(Call call) {
        String secret = call.param("secret");
        String client = secret.isEmpty() ? call.param("client") : "";
        int days = call.param("days").isEmpty() ? 30 : number(call, "days");
        if (days < 1 || days > 3650) {
            throw BadInput.badRequest("days must be between 1 and 3650.");
        }
        AccessView.Estate estate = access.estate();
        Map<String, Object> model = model(call, "access", "Access");
        model.put("estate", estate);
        model.put("secret", secret);
        model.put("client", client);
        model.put("days", days);
        model.put("graph", access.graphJson(estate));
        model.put("selected", !secret.isEmpty() ? "secret:" + secret : !client.isEmpty() ? "client:" + client : "");
        if (!secret.isEmpty()) {
            model.put("answer", access.forSecret(estate, secret, days));
        } else if (!client.isEmpty()) {
            model.put("answer", access.forClient(estate, client, days));
        }
        page(call.response(), call.callback(), 200, "access", model);
    }

    private void rotationPage(Call call, String slotFor, String activeSlot) {
        List<String> names = new java.util.ArrayList<>(rotationSlots);
        String asked = call.param("name");
        if (!asked.isEmpty() && !names.contains(asked)) {
            names.add(asked);
        }
        Map<String, Object> model = model(call, "rotation", "Rotation");
        model.put("rotations", names.stream().map(rotations::rotation).toList());
        model.put("asked", asked);
        model.put("slotFor", slotFor);
        model.put("activeSlot", activeSlot);
        page(call.response(), call.callback(), 200, "rotation", model);
    }

    private void healthPage(Call call) {
        Map<String, Object> model = model(call, "health", "Health");
        model.put("api", health.api());
        model.put("nodes", health.nodes());
        page(call.response(), call.callback(), 200, "health", model);
    }

    // ------------------------------------------------------------------ helpers

    private static Map<String, Object> model(Call call, String section, String title) {
        Map<String, Object> model = new HashMap<>();
        model.put("section", section);
        model.put("title", title);
        model.put("csrf", call.session().csrf());
        return model;
    }

    private static String required(Call call, String name) {
        String value = call.param(name);
        if (value.isEmpty()) {
            throw BadInput.badRequest("The field '" + name + "' is required.");
        }
        return value;
    }

    private static int number(Call call, String name) {
        String value = call.param(name);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw BadInput.badRequest("The field '" + name + "' must be a whole number.");
        }
    }

    private static void redirect(Call call, String location) {
        Response.sendRedirect(call.request(), call.response(), call.callback(), 303, location, true);
    }

    private void page(Response response, Callback callback, int status, String template, Map<String, Object> model) {
        byte[] html = pages.render(template, model).getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
        response.write(true, ByteBuffer.wrap(html), callback);
    }
}
