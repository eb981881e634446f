package dev.tresor.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.testkit.IssuedCert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The refresh loop driven through the {@link ChangeFeed} seam by hand: re-list on a change, start over on a 410. */
class MountRefreshTest {

    /** A feed the test drives: each queued item is one answer of awaitChange (true, false, or a failure to throw). */
    private static final class HandFeed implements ChangeFeed {
        final LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        final AtomicInteger starts = new AtomicInteger();

        @Override
        public void start() {
            starts.incrementAndGet();
        }

        @Override
        public boolean awaitChange() throws ApiFailure, InterruptedException {
            Object answer = answers.poll(1, TimeUnit.SECONDS);
            if (answer instanceof ApiFailure failure) {
                throw failure;
            }
            return Boolean.TRUE.equals(answer);
        }

        @Override
        public String describe() {
            return "hand-driven feed";
        }
    }

    @TempDir
    Path serverDir;

    private MountRig rig;
    private IssuedCert alice;

    @BeforeEach
    void start() {
        rig = new MountRig(serverDir);
        alice = rig.client("alice");
        rig.group("ga", "alice");
        rig.put("one", "1", "ga");
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    @Test
    void theTreeChangesOnlyWhenTheFeedSaysSoAndA410StartsOver(@TempDir Path a) throws Exception {
        HandFeed feed = new HandFeed();
        TresorMount mount = TresorMount.mount(rig.settings(alice, a), feed);
        try {
            assertThat(feed.starts.get()).isEqualTo(1);
            rig.put("two", "2", "ga");
            // "Nothing happened" answers do not re-list: the new secret stays unseen until the feed reports it.
            feed.answers.add(false);
            MountRig.await("the feed's answer is consumed", feed.answers::isEmpty);
            assertThat(mount.fileSystem().tree().readable("two")).isFalse();
            feed.answers.add(true);
            MountRig.await("the change is listed", () -> Files.exists(a.resolve("two")));

            rig.put("three", "3", "ga");
            feed.answers.add(new ApiFailure(410, "cursor too old"));
            MountRig.await("a 410 starts the feed again and re-lists", () -> feed.starts.get() == 2 && Files.exists(a.resolve("three")));
            assertThat(Files.readString(a.resolve("three"))).isEqualTo("3");
        } finally {
            mount.close();
        }
    }
}
