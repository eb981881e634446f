package dev.tresor.ui;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one-time login token and the sessions it opens. The token is printed once on the terminal and
 * is good for one exchange; a session is a random cookie value with its own CSRF token. Every
 * comparison of a secret value runs in constant time, so timing does not tell how much of a guess
 * was right.
 */
final class Sessions {

    static final Duration LOGIN_TOKEN_LIFETIME = Duration.ofMinutes(15);
    static final Duration SESSION_IDLE_LIMIT = Duration.ofHours(8);
    private static final int TOKEN_BYTES = 32; // 256 bits

    /** One browser's session; {@code csrf} goes in every form and is checked on every POST. */
    record Session(String id, String csrf, Instant lastSeen) {}

    private final SecureRandom random;
    private final Clock clock;
    private final Instant loginTokenIssued;
    /** The unredeemed login token; null once it has been used. */
    private final AtomicReference<String> loginToken;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    Sessions(SecureRandom random, Clock clock) {
        this.random = random;
        this.clock = clock;
        this.loginToken = new AtomicReference<>(newToken());
        this.loginTokenIssued = clock.instant();
    }

    /** The token to print on the terminal (once; it is not logged anywhere). */
    String loginToken() {
        String token = loginToken.get();
        if (token == null) {
            throw new IllegalStateException("the login token was already used");
        }
        return token;
    }

    /** Exchanges the login token for a new session: works once, within its lifetime, and only for the exact token. */
    Optional<Session> redeem(String candidate) {
        String expected = loginToken.get();
        if (expected == null || candidate == null || !constantTimeEquals(expected, candidate)) {
            return Optional.empty();
        }
        if (clock.instant().isAfter(loginTokenIssued.plus(LOGIN_TOKEN_LIFETIME))) {
            return Optional.empty();
        }
        // Only one of two racing redemptions of the same token wins.
        if (!loginToken.compareAndSet(expected, null)) {
            return Optional.empty();
        }
        Session session = new Session(newToken(), newToken(), clock.instant());
        sessions.put(session.id(), session);
        return Optional.of(session);
    }

    /** The live session behind a cookie value, touched; empty if unknown or idle too long (then forgotten). */
    Optional<Session> find(String cookie) {
        if (cookie == null) {
            return Optional.empty();
        }
        // The map lookup hashes the value; the final comparison of the stored id is constant-time.
        Session session = sessions.get(cookie);
        if (session == null || !constantTimeEquals(session.id(), cookie)) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        if (now.isAfter(session.lastSeen().plus(SESSION_IDLE_LIMIT))) {
            sessions.remove(cookie);
            return Optional.empty();
        }
        Session touched = new Session(session.id(), session.csrf(), now);
        sessions.put(cookie, touched);
        return Optional.of(touched);
    }

    void end(Session session) {
        sessions.remove(session.id());
    }

    static boolean constantTimeEquals(String expected, String candidate) {
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), candidate.getBytes(StandardCharsets.UTF_8));
    }

    private String newToken() {
        byte[] bytes = new byte[TOKEN_BYTES];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
