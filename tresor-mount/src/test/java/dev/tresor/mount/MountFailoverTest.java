package dev.tresor.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.client.api.ServerAddresses;
import dev.tresor.server.ServerFixture;
import dev.tresor.server.TwoNodes;
import dev.tresor.testkit.Await;
import dev.tresor.testkit.IssuedCert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17: {@code tresor mount} with two server nodes on one PostgreSQL. The mount reads from the
 * first node; that node dies; the same mount keeps serving values, and keeps following the tree
 * (a new version, a revoke) through the second node, without a remount.
 */
class MountFailoverTest {

    @TempDir
    Path serverDir;

    @Test
    void theMountKeepsServingThroughTheSecondNodeWhenTheFirstDies(@TempDir Path mnt) throws Exception {
        MountRig.requireFuse();
        try (TwoNodes nodes = TwoNodes.start(serverDir)) {
            ServerFixture a = nodes.a();
            IssuedCert alice = nodes.reader("ga", "alice");
            nodes.admin("PUT", "/v1/secrets/app/db/password", "{\"value\":\"first\",\"groups\":[\"ga\"]}", 201);
            nodes.admin("PUT", "/v1/secrets/app/api/key", "{\"value\":\"key-1\",\"groups\":[\"ga\"]}", 201);

            // Node A first: everything goes there while it lives. Poll interval of an hour: the tree
            // follows the change feed, not the re-list timer.
            MountSettings settings = MountSettings.of(ServerAddresses.of(a.api(""), nodes.apiB()), a.sslContext(alice), mnt)
                    .withPollInterval(Duration.ofHours(1)).withRequestTimeout(Duration.ofSeconds(20));
            TresorMount mount = TresorMount.mount(settings);
            try {
                Path password = mnt.resolve("app/db/password");
                Path key = mnt.resolve("app/api/key");
                assertThat(Files.readString(password)).isEqualTo("first");
                assertThat(readsOf(nodes, "audit-b.log", "app/db/password")).as("node B not used while A lives").isZero();

                a.stopServer();

                // Values: the pooled connection to A is dead, A refuses; the read goes to B.
                MountRig.Run cat = MountRig.run("cat", password.toString());
                assertThat(cat.exit()).as(cat.err()).isZero();
                assertThat(cat.out()).isEqualTo("first");
                assertThat(Files.readString(key)).isEqualTo("key-1");
                Await.until("the read after A died is in B's audit log", () -> readsOf(nodes, "audit-b.log", "app/db/password") == 1);

                // The tree: the change feed moved to B too, so a new version and a revoke written
                // on B reach the same mount.
                assertThat(nodes.onB(a.admin(), "PUT", "/v1/secrets/app/db/password", "{\"value\":\"second\"}").statusCode())
                        .isEqualTo(200);
                Await.until("the new version through B", () -> MountRig.run("cat", password.toString()).out().equals("second"));
                assertThat(nodes.onB(a.admin(), "DELETE", "/v1/groups/ga/secrets/app/api/key", null).statusCode()).isEqualTo(200);
                Await.until("the revoked file gone through B", () -> !Files.exists(key));
                assertThat(Files.readString(password)).isEqualTo("second");
            } finally {
                mount.close();
            }
            assertThat(MountTable.at(mount.mountPoint())).isEmpty();
        }
    }

    /** Allowed value reads of {@code secret} in one node's audit log. */
    private static long readsOf(TwoNodes nodes, String log, String secret) {
        Path file = nodes.a().dir().resolve(log);
        List<String> lines;
        try {
            lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return lines.stream()
                .filter(l -> l.contains("\"secret.read\"") && l.contains("\"" + secret + "\"") && l.contains("\"allowed\""))
                .count();
    }
}
