package dev.tresor.rotation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.rotation.RotationEngine;
import dev.tresor.rotation.RotationReport;
import dev.tresor.rotation.RunOptions;
import dev.tresor.rotation.Step;
import dev.tresor.rotation.StepHook;
import dev.tresor.rotation.StepResult;
import dev.tresor.rotation.TresorApi;
import dev.tresor.rotation.consumer.FakeKubernetes;
import dev.tresor.rotation.schedule.RotationScheduler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The rotation against a real database and a real Tresor server; subclasses pick the database.
 * Every scenario of issue 4: three rotations in a row, a SIGKILL at every step boundary with a
 * rerun, failed validation before and after the flip, drift of every kind, two concurrent runs,
 * a dry run that changes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RotationScenarios {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Path dir;
    private TestDatabase db;
    private TresorFixture tresor;
    private int rigs;

    abstract TestDatabase startDatabase() throws Exception;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("tresor-rotation-it-");
        db = startDatabase();
        Files.createDirectories(dir.resolve("tresor"));
        tresor = TresorFixture.start(dir.resolve("tresor"));
    }

    @AfterAll
    void stop() {
        try {
            if (tresor != null) {
                tresor.close();
            }
        } finally {
            if (db != null) {
                db.close();
            }
            MariaDbServer.deleteTree(dir);
        }
    }

    /** A fresh application, already through its first rotation (which created both slot users): slot A active. */
    private RotationRig rig() throws Exception {
        String id = db.kind().substring(0, 2) + (++rigs);
        Path rigDir = Files.createDirectories(dir.resolve(id));
        RotationRig rig = new RotationRig(db, tresor, rigDir, id);
        RotationReport first = rig.run();
        assertThat(first.error()).as("first rotation").isNull();
        assertThat(first.healed()).anyMatch(h -> h.contains("created missing user " + rig.userA));
        assertThat(rig.slots().path("active_slot").asText()).isEqualTo("A");
        rig.assertConverged();
        return rig;
    }

    private static void assertProberClean(Prober prober) {
        assertThat(prober.failures()).as("failed application connections").isEmpty();
        assertThat(prober.connections()).as("application connections made").isPositive();
    }

    @Test
    void threeRotationsAlternateSlotsAndChangeEveryPassword() throws Exception {
        try (RotationRig rig = rig(); Prober prober = new Prober(rig.file, db).start()) {
            List<String> expected = List.of("B", "A", "B");
            for (String next : expected) {
                JsonNode before = rig.slots();
                String adminBefore = rig.adminLogin().path("password").asText();
                RotationReport report = rig.run();
                assertThat(report.error()).isNull();
                assertThat(report.steps()).extracting(StepResult::step).contains(Step.FLIP, Step.OLD_COMMIT, Step.ADMIN_COMMIT);
                System.out.println("ROTATION-TIME " + db.kind() + " " + report.total().toMillis() + " ms (drain 200 ms included)");
                JsonNode after = rig.slots();
                assertThat(after.path("active_slot").asText()).isEqualTo(next);
                for (String s : List.of("A", "B")) {
                    String old = before.path(s).path("password").asText();
                    assertThat(after.path(s).path("password").asText()).as("slot %s password changed", s).isNotEqualTo(old);
                    assertThat(db.canLogin(rig.user(s), old, rig.database)).as("old slot %s password refused", s).isFalse();
                }
                String adminAfter = rig.adminLogin().path("password").asText();
                assertThat(adminAfter).isNotEqualTo(adminBefore);
                assertThat(db.canLogin(rig.admin, adminBefore, rig.database)).as("old admin password refused").isFalse();
                rig.assertConverged();
            }
            assertThat(rig.fileMode()).isEqualTo("rw-r-----");
            assertThat(Files.readAllLines(rig.dir.resolve("reloads.log"))).endsWith("reload A", "reload B", "reload A", "reload B");
            prober.close();
            assertProberClean(prober);
            System.out.println("PROBER " + db.kind() + " happy-path connections=" + prober.connections() + " failures="
                    + prober.failures().size() + String.format(" rate=%.1f/s", prober.rate()));
        }
    }

    @Test
    void sigkillAtEveryStepBoundaryThenRerunConverges() throws Exception {
        List<Step> boundaries = new ArrayList<>(List.of(Step.values()));
        boundaries.remove(Step.ROLLBACK);
        try (RotationRig rig = rig(); Prober prober = new Prober(rig.file, db).start()) {
            for (Step step : boundaries) {
                RotationRig.ProcessResult crashed = rig.runProcess(Map.of("TRESOR_ROTATE_CRASH_AT", step.wireName()));
                assertThat(crashed.exitCode()).as("killed by SIGKILL at %s; output:\n%s", step.wireName(), crashed.output())
                        .isEqualTo(137);
                assertThat(crashed.output()).contains(" " + step.wireName() + " ");
                RotationReport rerun = rig.run();
                assertThat(rerun.error()).as("rerun after a crash at %s", step.wireName()).isNull();
                rig.assertConverged();
                assertThat(prober.failures()).as("application failures after a crash at %s", step.wireName()).isEmpty();
            }
            prober.close();
            assertProberClean(prober);
            System.out.println("FAULT-MATRIX " + db.kind() + " boundaries=" + boundaries.size() + " prober connections="
                    + prober.connections() + " failures=" + prober.failures().size() + String.format(" rate=%.1f/s", prober.rate()));
        }
    }

    private void assertRolledBack(RotationRig rig, RotationReport report, String activeBefore) throws Exception {
        assertThat(report.errorKind()).as(report.error()).isEqualTo("ROLLED_BACK");
        assertThat(report.steps()).extracting(StepResult::step).contains(Step.ROLLBACK);
        assertThat(rig.slots().path("active_slot").asText()).isEqualTo(activeBefore);
        assertThat(SqlConf.read(rig.file).login()).isEqualTo(rig.user(activeBefore));
        rig.assertConverged();
    }

    @Test
    void healthFailingBeforeTheFlipRollsBack() throws Exception {
        try (RotationRig rig = rig(); Prober prober = new Prober(rig.file, db).start()) {
            rig.app.policy((user, n) -> user.equals(rig.userB) ? 500 : null);
            RotationReport report = rig.run();
            assertThat(report.steps()).filteredOn(r -> r.step() == Step.WAIT_APP).extracting(StepResult::outcome)
                    .containsExactly(StepResult.Outcome.FAILED);
            assertThat(report.steps()).extracting(StepResult::step).doesNotContain(Step.FLIP);
            assertRolledBack(rig, report, "A");
            rig.app.policy((user, n) -> null);
            assertThat(rig.run().error()).isNull();
            rig.assertConverged();
            prober.close();
            assertProberClean(prober);
        }
    }

    @Test
    void healthFailingAfterTheFlipRollsBack() throws Exception {
        try (RotationRig rig = rig(); Prober prober = new Prober(rig.file, db).start()) {
            // Health calls for the new slot: 1 wait-app, 2 validate, 3 confirm (after the flip).
            rig.app.policy((user, n) -> user.equals(rig.userB) && n >= 3 ? 500 : null);
            RotationReport report = rig.run();
            assertThat(report.steps()).filteredOn(r -> r.step() == Step.FLIP).extracting(StepResult::outcome)
                    .containsExactly(StepResult.Outcome.OK);
            assertThat(report.steps()).filteredOn(r -> r.step() == Step.CONFIRM).extracting(StepResult::outcome)
                    .containsExactly(StepResult.Outcome.FAILED);
            assertRolledBack(rig, report, "A");
            prober.close();
            assertProberClean(prober);
        }
    }

    private void gate(RotationRig rig, String user, boolean present) {
        try (Connection c = db.superuser(rig.database); Statement s = c.createStatement()) {
            String table = db.kind().equals("mariadb") ? "`" + rig.database + "`.gate" : "gate";
            s.execute(present ? "INSERT INTO " + table + " VALUES ('" + user + "')" : "DELETE FROM " + table + " WHERE u = '" + user + "'");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void databaseProbeFailingBeforeTheFlipRollsBack() throws Exception {
        try (RotationRig rig = rig(); Prober prober = new Prober(rig.file, db).start()) {
            gate(rig, rig.userB, false);
            RotationReport report = rig.run();
            assertThat(report.steps()).filteredOn(r -> r.step() == Step.VALIDATE).extracting(StepResult::outcome)
                    .containsExactly(StepResult.Outcome.FAILED);
            assertThat(report.error()).contains("validation query");
            assertRolledBack(rig, report, "A");
            gate(rig, rig.userB, true);
            prober.close();
            assertProberClean(prober);
        }
    }

    @Test
    void databaseProbeFailingAfterTheFlipRollsBack() throws Exception {
        try (RotationRig rig = rig(); Prober prober = new Prober(rig.file, db).start()) {
            rig.app.policy((user, n) -> {
                if (user.equals(rig.userB) && n == 3) {
                    gate(rig, rig.userB, false); // the database turns against the new slot right after the flip
                }
                return null;
            });
            RotationReport report = rig.run();
            assertThat(report.steps()).filteredOn(r -> r.step() == Step.CONFIRM).extracting(StepResult::outcome)
                    .containsExactly(StepResult.Outcome.FAILED);
            assertRolledBack(rig, report, "A");
            prober.close();
            assertProberClean(prober);
        }
    }

    @Test
    void adminPasswordDriftIsHealedOrReportedWithTheFix() throws Exception {
        try (RotationRig rig = rig()) {
            // 1. An earlier run set a new admin password (stored as pending) and died before committing it.
            String pending = "Pending" + System.nanoTime();
            JsonNode adminDoc = rig.adminLogin();
            int current = tresor.current(rig.adminSecret).path("version").asInt();
            tresor.rotator("PUT", "/v1/secrets/" + rig.adminSecret, Map.of("value", withPassword(adminDoc, pending), "cas", current,
                    "labels", List.of("pending")));
            db.setPassword(rig.admin, pending);
            RotationReport healed = rig.run();
            assertThat(healed.error()).isNull();
            assertThat(healed.healed()).anyMatch(h -> h.contains("admin password from pending"));
            rig.assertConverged();

            // 2. Someone changed it by hand: the run stops, changes nothing, and says how to fix it.
            String unknown = "Unknown" + System.nanoTime();
            db.setPassword(rig.admin, unknown);
            String slotsBefore = tresor.versions(rig.slotSecret);
            RotationReport refused = rig.run();
            assertThat(refused.errorKind()).isEqualTo("STATE");
            assertThat(refused.error()).contains("no stored admin password logs in as " + rig.admin)
                    .contains("tresor secret put " + rig.adminSecret).doesNotContain(unknown);
            assertThat(tresor.versions(rig.slotSecret)).isEqualTo(slotsBefore);

            // Following the fix: store the password the database has; the next run works.
            int v = tresor.current(rig.adminSecret).path("version").asInt();
            tresor.rotator("PUT", "/v1/secrets/" + rig.adminSecret, Map.of("value", withPassword(rig.adminLogin(), unknown), "cas", v));
            assertThat(rig.run().error()).isNull();
            rig.assertConverged();
        }
    }

    private static String withPassword(JsonNode doc, String password) throws Exception {
        ObjectNode copy = doc.deepCopy();
        copy.put("password", password);
        return JSON.writeValueAsString(copy);
    }

    @Test
    void missingSlotUserIsRecreated() throws Exception {
        try (RotationRig rig = rig()) {
            db.dropUser(rig.userB);
            RotationReport report = rig.run();
            assertThat(report.error()).isNull();
            assertThat(report.healed()).anyMatch(h -> h.contains("created missing user " + rig.userB));
            rig.assertConverged();
        }
    }

    @Test
    void droppedPrivilegesAreGrantedAgain() throws Exception {
        try (RotationRig rig = rig()) {
            db.dropPrivileges(rig.userB, rig.role, rig.database, rig.admin, rig.adminLogin().path("password").asText());
            RotationReport report = rig.run();
            assertThat(report.error()).isNull();
            assertThat(report.healed()).anyMatch(h -> h.contains("re-granted the declared privileges of " + rig.userB));
            rig.assertConverged();
            try (Connection c = java.sql.DriverManager.getConnection(db.appUrl(rig.database), rig.userB, rig.password("B"));
                    Statement s = c.createStatement()) {
                s.executeQuery("SELECT COUNT(*) FROM gate").close();
            }
        }
    }

    @Test
    void stuckPendingFromAnEarlierCrashDoesNotBlock() throws Exception {
        try (RotationRig rig = rig()) {
            JsonNode doc = rig.slots();
            ObjectNode stuck = doc.deepCopy();
            ((ObjectNode) stuck.path("B")).put("password", "NeverSetAnywhere123");
            stuck.put("active_slot", "B");
            int current = tresor.current(rig.slotSecret).path("version").asInt();
            tresor.rotator("PUT", "/v1/secrets/" + rig.slotSecret, Map.of("value", JSON.writeValueAsString(stuck), "cas", current,
                    "labels", List.of("pending")));
            assertThat(rig.outstandingPending(rig.slotSecret)).isPositive();
            try (TresorApi api = TresorApi.open(tresor.rotatorConnection())) {
                assertThat(rig.engine(api).status()).anyMatch(c -> c.name().equals("pending") && !c.ok());
            }
            RotationReport report = rig.run();
            assertThat(report.error()).isNull();
            assertThat(rig.slots().path("active_slot").asText()).isEqualTo("B");
            rig.assertConverged();
        }
    }

    @Test
    void activeSlotPasswordChangedOutsideNeedsSyncDbUsers() throws Exception {
        try (RotationRig rig = rig()) {
            db.setPassword(rig.userA, "ChangedByHand" + System.nanoTime());
            RotationReport refused = rig.run();
            assertThat(refused.errorKind()).isEqualTo("STATE");
            assertThat(refused.error()).contains("active slot A user " + rig.userA).contains("--sync-db-users");
            RotationReport synced = rig.run(new RunOptions(false, true), StepHook.NONE);
            assertThat(synced.error()).isNull();
            assertThat(synced.healed()).anyMatch(h -> h.contains("set the stored password on " + rig.userA));
            rig.assertConverged();
        }
    }

    @Test
    void twoConcurrentRunsOneRefuses() throws Exception {
        try (RotationRig rig = rig()) {
            CountDownLatch reached = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            StepHook pauseAtDeliver = step -> {
                if (step == Step.DELIVER) {
                    reached.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            CompletableFuture<RotationReport> first = CompletableFuture.supplyAsync(
                    () -> rig.run(new RunOptions(false, false), pauseAtDeliver));
            assertThat(reached.await(60, TimeUnit.SECONDS)).as("first run reached deliver").isTrue();
            String versions = tresor.versions(rig.slotSecret);
            RotationReport second = rig.run();
            assertThat(second.errorKind()).isEqualTo("BUSY");
            assertThat(second.error()).contains("another rotation of 'rot-" + rig.id + "' is running");
            assertThat(tresor.versions(rig.slotSecret)).as("the refused run wrote nothing").isEqualTo(versions);
            release.countDown();
            RotationReport done = first.get(120, TimeUnit.SECONDS);
            assertThat(done.error()).isNull();
            rig.assertConverged();
        }
    }

    /** A node's scheduler for the rig's definition (due every minute), whose runs go through {@code hook}, reports kept. */
    private static RotationScheduler node(RotationRig rig, java.time.Instant now, StepHook hook, List<RotationReport> reports)
            throws Exception {
        Files.writeString(rig.config, Files.readString(rig.config).replaceAll("(?m)^schedule:.*\n", "") + "schedule: \"* * * * *\"\n");
        return new RotationScheduler(List.of(rig.loadConfig()), c -> {
            RotationReport report = rig.run(new RunOptions(false, false), hook);
            reports.add(report);
            return report;
        }, java.time.Clock.fixed(now, java.time.ZoneOffset.UTC), line -> System.out.println("scheduler: " + line));
    }

    /** A hook that, at {@code at}, runs {@code then} and holds the run until {@code release} (a node stalled mid-rotation). */
    private static StepHook pauseAt(Step at, CountDownLatch reached, CountDownLatch release, ThrowingRunnable then) {
        return step -> {
            if (step == at) {
                try {
                    then.run();
                    reached.countDown();
                    release.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /**
     * Two nodes with the same schedule (issue 17): when the rotation is due on both, exactly one
     * runs it (the other's run finds the database lock taken and changes nothing). Then the leader
     * loses its database session in the middle of a rotation (after it verified the new password,
     * before delivering it) and stalls: the other node's next run takes the freed lock and
     * completes a rotation, and when the old leader wakes up it stops at its next step instead of
     * delivering credentials that are no longer the truth.
     */
    @Test
    void twoNodesOnOneScheduleOneLeaderAndATakeOverWhenTheLeaderLosesItsLock() throws Exception {
        try (RotationRig rig = rig(); Prober prober = new Prober(rig.file, db).start()) {
            java.time.Instant t0 = java.time.Instant.parse("2026-12-07T12:00:30Z");
            java.time.Instant due = java.time.Instant.parse("2026-12-07T12:01:00Z");
            List<RotationReport> onA = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<RotationReport> onB = new java.util.concurrent.CopyOnWriteArrayList<>();

            // Due on both at once: A is inside its run (paused after delivering) when B's scheduler fires.
            CountDownLatch aInside = new CountDownLatch(1);
            CountDownLatch releaseA = new CountDownLatch(1);
            RotationScheduler a = node(rig, t0, pauseAt(Step.DELIVER, aInside, releaseA, () -> {}), onA);
            RotationScheduler b = node(rig, t0, StepHook.NONE, onB);
            String activeBefore = rig.slots().path("active_slot").asText();
            CompletableFuture<java.time.Instant> aRun = CompletableFuture.supplyAsync(() -> a.runDue(due));
            assertThat(aInside.await(60, TimeUnit.SECONDS)).as("A's run reached deliver").isTrue();
            String versions = tresor.versions(rig.slotSecret);
            b.runDue(due);
            assertThat(onB).singleElement().satisfies(r -> assertThat(r.errorKind()).as(r.error()).isEqualTo("BUSY"));
            assertThat(tresor.versions(rig.slotSecret)).as("B's refused run wrote nothing").isEqualTo(versions);
            releaseA.countDown();
            aRun.get(120, TimeUnit.SECONDS);
            assertThat(onA).singleElement().satisfies(r -> assertThat(r.error()).isNull());
            String activeAfterFirst = rig.slots().path("active_slot").asText();
            assertThat(activeAfterFirst).as("one rotation ran").isNotEqualTo(activeBefore);
            rig.assertConverged();

            // Next minute: A leads again, its session is cut after verify-login, and A stalls there.
            java.time.Instant next = due.plusSeconds(60);
            CountDownLatch aCut = new CountDownLatch(1);
            CountDownLatch wakeA = new CountDownLatch(1);
            RotationScheduler a2 = node(rig, due, pauseAt(Step.VERIFY_LOGIN, aCut, wakeA,
                    () -> assertThat(db.cutRotationLockHolder("rot-" + rig.id, rig.admin)).as("A's session was cut").isTrue()), onA);
            RotationScheduler b2 = node(rig, due, StepHook.NONE, onB);
            CompletableFuture<java.time.Instant> aRun2 = CompletableFuture.supplyAsync(() -> a2.runDue(next));
            assertThat(aCut.await(60, TimeUnit.SECONDS)).as("A's run reached verify-login and lost its session").isTrue();
            b2.runDue(next);
            RotationReport bTookOver = onB.getLast();
            assertThat(bTookOver.error()).as("B took the freed lock and rotated").isNull();
            rig.assertConverged();
            String afterTakeOver = rig.slots().path("active_slot").asText();
            String fileAfterTakeOver = Files.readString(rig.file);
            wakeA.countDown();
            aRun2.get(120, TimeUnit.SECONDS);
            RotationReport aStopped = onA.getLast();
            assertThat(aStopped.errorKind()).as(aStopped.error()).isEqualTo("UNAVAILABLE");
            assertThat(aStopped.error()).contains("lost the lock tresor-rotation:rot-" + rig.id).contains("before deliver");
            assertThat(aStopped.steps()).extracting(StepResult::step).doesNotContain(Step.FLIP, Step.ROLLBACK);
            assertThat(aStopped.steps().getLast()).satisfies(last -> {
                assertThat(last.step()).isEqualTo(Step.DELIVER);
                assertThat(last.outcome()).isEqualTo(StepResult.Outcome.FAILED);
                assertThat(last.detail()).isEqualTo("lost the rotation lock");
            });
            assertThat(Files.readString(rig.file)).as("the stalled leader delivered nothing").isEqualTo(fileAfterTakeOver);
            assertThat(rig.slots().path("active_slot").asText()).isEqualTo(afterTakeOver);
            // The leader's unfinished run (its pending version, its password on the standby) is settled by the next run.
            RotationReport rerun = rig.run();
            assertThat(rerun.error()).isNull();
            rig.assertConverged();
            for (RotationScheduler s : List.of(a, b, a2, b2)) {
                s.close();
            }
            prober.close();
            assertProberClean(prober);
        }
    }

    @Test
    void kubernetesConsumersFollowTheRotationAndTheRollback() throws Exception {
        try (RotationRig rig = rig(); FakeKubernetes k8s = new FakeKubernetes()) {
            k8s.create("app-db", "app", 2);
            rig.writeConfig(db.gateProbe(), "200ms", String.join("\n",
                    "  - kind: kubernetes-secret",
                    "    namespace: " + FakeKubernetes.NAMESPACE,
                    "    name: app-db",
                    "    data:",
                    "      DB_USER: \"{{username}}\"",
                    "      DB_PASS: \"{{password}}\"",
                    "  - kind: kubernetes-rollout",
                    "    namespace: " + FakeKubernetes.NAMESPACE,
                    "    deployment: app",
                    "    timeout: 30s",
                    ""), k8s.writeKubeconfig(rig.dir.resolve("kubeconfig")));
            RotationReport report = rig.run();
            assertThat(report.error()).isNull();
            assertThat(k8sUser(k8s)).isEqualTo(rig.user("B"));
            assertThat(k8sPassword(k8s)).isEqualTo(rig.password("B"));
            assertThat(k8s.client().apps().deployments().inNamespace(FakeKubernetes.NAMESPACE).withName("app").get()
                    .getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry("tresor.dev/slot", "B");
            int rollouts = k8s.rollouts();
            assertThat(rollouts).as("rolled out and awaited").isPositive();

            rig.app.policy((user, n) -> user.equals(rig.userA) ? 500 : null);
            RotationReport failed = rig.run();
            assertThat(failed.errorKind()).isEqualTo("ROLLED_BACK");
            assertThat(k8sUser(k8s)).as("rollback restored the Secret").isEqualTo(rig.user("B"));
            assertThat(k8sPassword(k8s)).isEqualTo(rig.password("B"));
            assertThat(k8s.client().apps().deployments().inNamespace(FakeKubernetes.NAMESPACE).withName("app").get()
                    .getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry("tresor.dev/slot", "B");
            assertThat(k8s.rollouts()).as("restarted for the attempt and again for the rollback").isGreaterThanOrEqualTo(rollouts + 2);
            rig.assertConverged();
        }
    }

    private static String k8sUser(FakeKubernetes k8s) {
        return decode(k8s, "DB_USER");
    }

    private static String k8sPassword(FakeKubernetes k8s) {
        return decode(k8s, "DB_PASS");
    }

    private static String decode(FakeKubernetes k8s, String key) {
        return new String(java.util.Base64.getDecoder().decode(k8s.client().secrets().inNamespace(FakeKubernetes.NAMESPACE)
                .withName("app-db").get().getData().get(key)), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void dryRunChangesNothingByteForByte() throws Exception {
        try (RotationRig rig = rig()) {
            db.dropUser(rig.userB); // something to plan, too
            String users = db.usersFingerprint(rig.database);
            String slots = tresor.versions(rig.slotSecret);
            String admin = tresor.versions(rig.adminSecret);
            byte[] file = Files.readAllBytes(rig.file);
            String mode = rig.fileMode();
            long fileTime = Files.getLastModifiedTime(rig.file).toMillis();
            byte[] reloads = Files.readAllBytes(rig.dir.resolve("reloads.log"));
            RotationReport dry = rig.run(new RunOptions(true, false), StepHook.NONE);
            assertThat(dry.error()).isNull();
            assertThat(dry.steps()).extracting(StepResult::outcome).doesNotContain(StepResult.Outcome.FAILED);
            assertThat(dry.steps()).anyMatch(r -> r.step() == Step.ENSURE_USERS && r.detail().contains("would create missing user " + rig.userB));
            assertThat(dry.steps()).filteredOn(r -> r.step() == Step.SET_PASSWORD).extracting(StepResult::outcome)
                    .containsExactly(StepResult.Outcome.PLANNED);
            assertThat(db.usersFingerprint(rig.database)).isEqualTo(users);
            assertThat(tresor.versions(rig.slotSecret)).isEqualTo(slots);
            assertThat(tresor.versions(rig.adminSecret)).isEqualTo(admin);
            assertThat(Files.readAllBytes(rig.file)).isEqualTo(file);
            assertThat(rig.fileMode()).isEqualTo(mode);
            assertThat(Files.getLastModifiedTime(rig.file).toMillis()).isEqualTo(fileTime);
            assertThat(Files.readAllBytes(rig.dir.resolve("reloads.log"))).isEqualTo(reloads);
        }
    }

    @Test
    void verifyPassesAndNamesWhatIsWrong() throws Exception {
        try (RotationRig rig = rig(); TresorApi api = TresorApi.open(tresor.rotatorConnection())) {
            RotationEngine engine = rig.engine(api);
            List<RotationEngine.Check> ok = engine.verify();
            assertThat(ok).allSatisfy(c -> assertThat(c.ok()).as(c.name() + ": " + c.detail()).isTrue());
            assertThat(ok).extracting(RotationEngine.Check::name).contains("tresor", "admin login", "slot A", "slot B",
                    "write access " + rig.slotSecret);
            db.dropUser(rig.userB);
            List<RotationEngine.Check> bad = engine.verify();
            assertThat(bad).anyMatch(c -> c.name().equals("slot B") && !c.ok() && c.detail().contains(rig.userB + " does not exist"));
        }
    }
}
