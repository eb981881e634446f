package dev.tresor.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.model.Role;
import dev.tresor.store.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The node's ACL high-water mark moves with its own writes, and a read whose snapshot began before
 * such a write is older, not rolled back: checking it against the mark raises no alarm.
 */
class AclHeadMarkTest {

    private TresorFixture f;

    @BeforeEach
    void world() {
        f = TresorFixture.create(TestDatabase.Kind.SQLITE);
        f.group("g1");
        f.client("alice", false, Role.READ, "g1");
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void aSnapshotTakenBeforeTheNodesOwnAclWriteIsNotARollback() {
        AccessControl access = f.tresor.access();
        AccessControl.HeadOrProblem seen = f.store.read(r -> {
            r.anyClient(); // the snapshot starts here, before the write below
            Thread writer = Thread.ofPlatform().start(() -> f.client("bob", false, Role.READ, "g1"));
            try {
                writer.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return access.verifyHead(r);
        });
        assertThat(seen.problem()).isNull();
        assertThat(f.auth("bob").name()).isEqualTo("bob");
        assertThat(f.monitor.subjects()).isEmpty();
    }
}
