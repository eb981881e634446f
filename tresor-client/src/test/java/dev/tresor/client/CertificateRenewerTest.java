package dev.tresor.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateRenewerTest {

    private static final String ID = "spiffe://tresor.test/ns/app/sa/tunnel";
    private final TestIssuer issuer = new TestIssuer();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void renewsAtHalfLifeWithJitterNeverLater() {
        Instant start = Instant.parse("2026-12-06T00:00:00Z");
        Credentials day = issuer.credentials(ID, start, start.plus(Duration.ofHours(24)));
        RenewalPolicy policy = RenewalPolicy.DEFAULT;
        assertThat(policy.dueAt(day)).isEqualTo(start.plus(Duration.ofHours(12)));
        RandomGenerator random = RandomGenerator.of("L64X128MixRandom");
        for (int i = 0; i < 1000; i++) {
            Instant at = policy.renewAt(day, random);
            assertThat(at).isBetween(start.plus(Duration.ofMinutes(12 * 60 - 144)), start.plus(Duration.ofHours(12)));
        }
        // Lifetimes of minutes work the same way.
        Credentials minutes = issuer.credentials(ID, start, start.plus(Duration.ofMinutes(10)));
        assertThat(policy.dueAt(minutes)).isEqualTo(start.plus(Duration.ofMinutes(5)));
        assertThat(policy.backoff(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(policy.backoff(4)).isEqualTo(Duration.ofSeconds(8));
        assertThat(policy.backoff(50)).isEqualTo(Duration.ofMinutes(5));
        assertThatThrownBy(() -> new RenewalPolicy(0.5, 0.6, Duration.ofSeconds(1), Duration.ofSeconds(2)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void retriesWithBackoffKeepsTheLastGoodFilesThenInstallsAndAnnounces(@TempDir Path tmp) throws Exception {
        CredentialDirectory dir = new CredentialDirectory(tmp.resolve("id"));
        Credentials old = issuer.credentials(ID, Instant.now().minus(Duration.ofHours(2)), Instant.now().plus(Duration.ofHours(1)));
        dir.install(old);
        AtomicInteger calls = new AtomicInteger();
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch renewed = new CountDownLatch(1);
        CertificateRenewer.Renewal flaky = (current, keys) -> {
            if (calls.incrementAndGet() <= 2) {
                // The last good files are still in place while the server is down.
                events.add("on disk " + dir.load().orElseThrow().serial());
                throw new IssuanceException(0, "server down", null);
            }
            return issuer.credentials(ID, keys, Instant.now().minusSeconds(1), Instant.now().plus(Duration.ofHours(1)));
        };
        RenewalListener listener = new RenewalListener() {
            @Override
            public void renewed(Credentials fresh) {
                events.add("renewed " + fresh.serial());
                renewed.countDown();
            }

            @Override
            public void failed(Exception problem, int attempt, Instant retryAt) {
                events.add("failed " + attempt);
            }
        };
        RenewalPolicy fast = new RenewalPolicy(0.5, 0.1, Duration.ofMillis(10), Duration.ofMillis(40));
        try (CertificateRenewer renewer = new CertificateRenewer(dir, flaky, fast, Clock.systemUTC(), scheduler,
                List.of(listener))) {
            renewer.start(); // past half-life: runs at once
            assertThat(renewed.await(10, TimeUnit.SECONDS)).isTrue();
            Credentials fresh = renewer.current();
            assertThat(fresh.serial()).isNotEqualTo(old.serial());
            assertThat(dir.load().orElseThrow().serial()).isEqualTo(fresh.serial());
            assertThat(events).containsExactly("on disk " + old.serial(), "failed 1", "on disk " + old.serial(), "failed 2",
                    "renewed " + fresh.serial());
            // The next renewal is scheduled at the new certificate's half-life (minus jitter), right
            // after the listeners heard of the renewal.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (renewer.nextRenewal().isBefore(fresh.notBefore().plus(Duration.ofMinutes(1)))
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(renewer.nextRenewal()).isBetween(fresh.notBefore().plus(Duration.ofMinutes(24)),
                    fresh.notBefore().plus(Duration.ofMinutes(30)));
        }
    }

    @Test
    void refusesCredentialsForAnotherIdentityAndDoesNotRenewEarly(@TempDir Path tmp) throws Exception {
        CredentialDirectory dir = new CredentialDirectory(tmp.resolve("id"));
        Instant now = Instant.parse("2026-12-06T10:00:00Z");
        Credentials young = issuer.credentials(ID, now.minus(Duration.ofHours(1)), now.plus(Duration.ofHours(23)));
        dir.install(young);
        CertificateRenewer.Renewal impostor = (current, keys) ->
                issuer.credentials("spiffe://tresor.test/ns/app/sa/admin", keys, now, now.plus(Duration.ofHours(1)));
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        try (CertificateRenewer renewer = new CertificateRenewer(dir, impostor, RenewalPolicy.DEFAULT, clock, scheduler,
                List.of())) {
            assertThat(renewer.renewIfDue()).isEmpty();
            assertThatThrownBy(renewer::renewNow).isInstanceOf(IssuanceException.class).hasMessageContaining("refusing");
            assertThat(dir.load().orElseThrow().serial()).isEqualTo(young.serial());
        }
        assertThatThrownBy(() -> new CertificateRenewer(new CredentialDirectory(tmp.resolve("empty")), impostor,
                RenewalPolicy.DEFAULT, clock, scheduler, List.of())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("join first");
    }
}
