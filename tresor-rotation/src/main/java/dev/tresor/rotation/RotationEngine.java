package dev.tresor.rotation;

import dev.tresor.rotation.config.RotationConfig;
import dev.tresor.rotation.config.TlsMode;
import dev.tresor.rotation.consumer.Consumer;
import dev.tresor.rotation.consumer.Consumer.Candidate;
import dev.tresor.rotation.consumer.Consumer.ConsumerFailure;
import dev.tresor.rotation.target.AdminSession;
import dev.tresor.rotation.target.DatabaseTarget;
import dev.tresor.rotation.target.DatabaseTarget.Login;
import dev.tresor.rotation.target.DatabaseTarget.ProbeFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The dual-slot rotation. One run: read the slot and admin secrets, find the admin password that
 * works, lock, reconcile Tresor with reality (which passwords log in, which slot the consumers
 * hold), then rotate: write the standby's new password ahead as {@code pending}, set it, verify,
 * deliver, wait, validate, flip {@code current}, validate again, and give the old slot and the
 * admin fresh passwords the same write-ahead way. A failed validation puts every consumer back on
 * the last working slot and ends the run with {@link RotationException.Kind#ROLLED_BACK}.
 *
 * <p>Every step is idempotent and a crash anywhere leaves a state the next run recognises: a
 * pending version whose password logs in is adopted; one whose password does not is ignored; a
 * consumer found on a slot is believed when that slot's password works. The application always
 * holds a slot whose password works: passwords are only ever changed on a slot no consumer holds.
 */
public final class RotationEngine {

    private final RotationConfig config;
    private final TresorApi api;
    private final DatabaseTarget target;
    private final List<Consumer> consumers;
    private final Passwords passwords;
    private final RotationListener listener;
    private final StepHook hook;

    public RotationEngine(RotationConfig config, TresorApi api, DatabaseTarget target, List<Consumer> consumers,
                          Passwords passwords, RotationListener listener, StepHook hook) {
        this.config = config;
        this.api = api;
        this.target = target;
        this.consumers = List.copyOf(consumers);
        this.passwords = passwords;
        this.listener = listener;
        this.hook = hook;
    }

    /** Runs (or with {@code dryRun} plans) one rotation. Never throws: failures are in the report. */
    public RotationReport run(RunOptions options) {
        Run run = new Run(options);
        long start = System.nanoTime();
        String error = null;
        String kind = null;
        try {
            run.execute();
        } catch (RotationException e) {
            error = e.getMessage();
            kind = e.kind().name();
        }
        return new RotationReport(config.name(), options.dryRun(), run.activeBefore, run.activeAfter, List.copyOf(run.results),
                List.copyOf(run.healed), Duration.ofNanos(System.nanoTime() - start), error, kind);
    }

    // ================================================================== verify and status (read only)

    /** One preflight check. */
    public record Check(String name, boolean ok, String detail) {}

    /**
     * Preflight ({@code tresor rotate verify}): Tresor reachable with this identity, both secrets
     * readable and writable by it, an admin password that logs in, both slot users and their role,
     * every consumer usable. Changes nothing.
     */
    public List<Check> verify() {
        List<Check> checks = new ArrayList<>();
        com.fasterxml.jackson.databind.JsonNode me;
        try {
            me = api.whoami();
            checks.add(new Check("tresor", true, "reachable; this job is " + me.path("name").asText()));
        } catch (RotationException e) {
            checks.add(new Check("tresor", false, e.getMessage()));
            return checks;
        }
        Set<String> writable = new java.util.HashSet<>();
        me.path("groups").forEach(g -> {
            if ("write".equals(g.path("role").asText())) {
                writable.add(g.path("group").asText());
            }
        });
        SecretState<SlotDocument> slots = null;
        SecretState<DbCredentials> admin = null;
        try {
            slots = api.state(config.slotSecret(), SlotDocument::parse);
            checks.add(new Check("slot secret", true, config.slotSecret() + " v" + slots.currentVersion() + ", active slot "
                    + slots.current().value().activeSlot() + slots.pending().map(p -> ", outstanding pending v" + p.version()
                    + " (the next run adopts or ignores it)").orElse("")));
            admin = api.state(config.adminSecret(), SlotDocument::parseCredentials);
            checks.add(new Check("admin secret", true, config.adminSecret() + " v" + admin.currentVersion()));
        } catch (RotationException e) {
            checks.add(new Check("secrets", false, e.getMessage()));
            return checks;
        }
        for (String secret : List.of(config.slotSecret(), config.adminSecret())) {
            List<String> groups = api.groupsOf(secret);
            boolean ok = groups.stream().anyMatch(writable::contains);
            checks.add(new Check("write access " + secret, ok, ok ? "write role via " + groups.stream().filter(writable::contains).toList()
                    : "this identity has no write role in a group of " + secret + " (groups " + groups + "); an admin runs:"
                    + " tresor grant --client " + me.path("name").asText() + " --group GROUP --role write"));
        }
        DbCredentials login = null;
        SecretState<DbCredentials> adminState = admin;
        for (DbCredentials c : adminState.pending().map(p -> List.of(adminState.current().value(), p.value()))
                .orElse(List.of(adminState.current().value()))) {
            try {
                if (target.tryLogin(c) == Login.OK) {
                    login = c;
                    break;
                }
            } catch (RotationException e) {
                checks.add(new Check("admin login", false, e.getMessage()));
                return checks;
            }
        }
        if (login == null) {
            checks.add(new Check("admin login", false, "no stored admin password logs in as " + admin.current().value().username()
                    + "; see `tresor rotate run` for the exact fix"));
            return checks;
        }
        checks.add(new Check("admin login", true, "as " + login.username()));
        try (AdminSession db = target.admin(login, slots.current().value().get(Slot.A).dbname())) {
            Observation o = observe(db, slots);
            for (SlotView v : o.slots().values()) {
                boolean ok = v.exists() && v.working() != null && v.hasRole();
                checks.add(new Check("slot " + v.slot(), ok, v.username() + (v.exists() ? "" : " does not exist")
                        + (v.exists() && v.working() == null ? " does not log in with its stored password" : "")
                        + (v.working() != null ? " logs in (" + v.source() + ")" : "")
                        + (v.exists() && !v.hasRole() ? ", lacks role " + config.target().role() : "")
                        + (ok ? "" : "; `tresor rotate run` heals this (the active slot's password needs --sync-db-users)")));
            }
            checks.add(new Check("consumers hold", o.consumersAt().isPresent() || o.held().isEmpty(),
                    o.consumersAt().map(c -> "slot " + c.slot()).orElse(o.held().isEmpty() ? "no consumer can tell"
                            : "not one working slot: the next run redelivers the active slot")));
        }
        for (Consumer c : consumers) {
            List<String> problems = c.preflight();
            checks.add(new Check(c.describe(), problems.isEmpty(), problems.isEmpty() ? "usable" : String.join("; ", problems)));
        }
        return checks;
    }

    /** {@code tresor rotate status}: what Tresor records and what the database and consumers show. Changes nothing. */
    public List<Check> status() {
        List<Check> lines = new ArrayList<>();
        SecretState<SlotDocument> slots = api.state(config.slotSecret(), SlotDocument::parse);
        SecretState<DbCredentials> admin = api.state(config.adminSecret(), SlotDocument::parseCredentials);
        lines.add(new Check("active slot", true, slots.current().value().activeSlot() + " (" + config.slotSecret() + " v"
                + slots.currentVersion() + ")"));
        lines.add(new Check("pending", slots.pending().isEmpty() && admin.pending().isEmpty(),
                slots.pending().map(p -> config.slotSecret() + " v" + p.version()).orElse("none")
                        + admin.pending().map(p -> ", " + config.adminSecret() + " v" + p.version()).orElse("")));
        DbCredentials login = null;
        for (DbCredentials c : admin.pending().map(p -> List.of(admin.current().value(), p.value()))
                .orElse(List.of(admin.current().value()))) {
            if (target.tryLogin(c) == Login.OK) {
                login = c;
                break;
            }
        }
        lines.add(new Check("admin", login != null, login == null ? "no stored admin password logs in" : "logs in as " + login.username()));
        if (login != null) {
            try (AdminSession db = target.admin(login, slots.current().value().get(Slot.A).dbname())) {
                Observation o = observe(db, slots);
                for (SlotView v : o.slots().values()) {
                    lines.add(new Check("slot " + v.slot(), v.working() != null, v.username() + ": "
                            + (v.working() == null ? (v.exists() ? "stored password refused" : "missing") : "logs in (" + v.source() + ")")));
                }
                for (Map.Entry<Consumer, Optional<Candidate>> e : o.held().entrySet()) {
                    lines.add(new Check(e.getKey().describe(), e.getValue().isPresent(),
                            e.getValue().map(c -> "holds slot " + c.slot()).orElse("holds no known credentials")));
                }
            }
        }
        return lines;
    }

    // ================================================================== observation (read only)

    /** What one slot looks like in the database. */
    record SlotView(Slot slot, String username, boolean exists, DbCredentials working, String source, boolean hasRole) {}

    /** Reality as read without changing anything. */
    record Observation(Map<Slot, SlotView> slots, Map<Consumer, Optional<Candidate>> held, Optional<Candidate> consumersAt) {}

    Observation observe(AdminSession db, SecretState<SlotDocument> state) {
        Map<Slot, SlotView> views = new EnumMap<>(Slot.class);
        List<Candidate> candidates = new ArrayList<>();
        for (Slot slot : Slot.values()) {
            DbCredentials current = state.current().value().get(slot);
            DbCredentials pending = state.pending().map(p -> p.value().get(slot))
                    .filter(p -> p.username().equals(current.username()) && !p.equals(current)).orElse(null);
            candidates.add(new Candidate(slot, current));
            if (pending != null) {
                candidates.add(new Candidate(slot, pending));
            }
            boolean exists = db.userExists(current.username());
            DbCredentials working = null;
            String source = "none";
            if (exists && target.tryLogin(current) == Login.OK) {
                working = current;
                source = "current v" + state.currentVersion();
            } else if (exists && pending != null && target.tryLogin(pending) == Login.OK) {
                working = pending;
                source = "pending v" + state.pending().get().version();
            }
            views.put(slot, new SlotView(slot, current.username(), exists, working, source, exists && db.hasRole(current.username())));
        }
        Map<Consumer, Optional<Candidate>> held = new java.util.LinkedHashMap<>();
        Set<Candidate> seen = new LinkedHashSet<>();
        boolean unknown = false;
        for (Consumer c : consumers) {
            if (!c.canTell()) {
                continue;
            }
            Optional<Candidate> h = c.holds(candidates);
            held.put(c, h);
            h.ifPresentOrElse(seen::add, () -> { });
            unknown |= h.isEmpty();
        }
        Optional<Candidate> at = Optional.empty();
        if (seen.size() == 1 && !unknown) {
            Candidate only = seen.iterator().next();
            if (only.credentials().equals(views.get(only.slot()).working())) {
                at = Optional.of(only);
            }
        }
        return new Observation(views, held, at);
    }

    // ================================================================== one run

    private final class Run {

        private final RunOptions options;
        private final List<StepResult> results = new ArrayList<>();
        private final List<String> healed = new ArrayList<>();
        /** The session holding this run's lock, once the lock step took it. */
        private AdminSession locked;
        private Slot activeBefore;
        private Slot activeAfter;

        private SecretState<SlotDocument> slots;
        private SecretState<DbCredentials> admin;
        private DbCredentials adminLogin;
        private String adminSource;
        /** The slot document that matches reality, and its version (after ENSURE_USERS). */
        private SlotDocument truth;
        private int truthVersion;
        private Observation seen;

        Run(RunOptions options) {
            this.options = options;
        }

        private boolean dry() {
            return options.dryRun();
        }

        @FunctionalInterface
        private interface Body {
            String run() throws Exception;
        }

        /** Runs one step: times it, reports one line, then passes the boundary to the hook. */
        private void step(Step step, Body body) {
            ensureStillLocked(step);
            long start = System.nanoTime();
            String detail;
            try {
                detail = body.run();
            } catch (RotationException e) {
                report(step, StepResult.Outcome.FAILED, start, e.getMessage());
                throw e;
            } catch (Exception e) {
                String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                report(step, StepResult.Outcome.FAILED, start, message);
                throw new RotationException(RotationException.Kind.FAILED, step.wireName() + ": " + message, e);
            }
            StepResult.Outcome outcome = StepResult.Outcome.OK;
            if (detail.startsWith("skip:")) {
                outcome = StepResult.Outcome.SKIPPED;
                detail = detail.substring(5).strip();
            } else if (dry() && detail.startsWith("would ")) {
                outcome = StepResult.Outcome.PLANNED;
            }
            report(step, outcome, start, detail);
            if (!dry()) {
                hook.reached(step);
            }
        }

        /**
         * After the lock step, every step first checks that this run's session still holds the
         * lock. A node whose database session was cut (or that stalled until it was) must not go on
         * delivering or recording what it had prepared: the lock was freed with the session, and
         * another node may have taken it and rotated meanwhile. What this run left half done is
         * reconciled by the next run, as after a crash.
         */
        private void ensureStillLocked(Step step) {
            if (locked == null || dry()) {
                return; // a dry run changes nothing, so losing its lock harms nothing
            }
            boolean held;
            String why;
            try {
                held = locked.holdsLock(config.name());
                why = "its database session no longer holds it";
            } catch (RotationException e) {
                held = false;
                why = e.getMessage();
            }
            if (!held) {
                report(step, StepResult.Outcome.FAILED, System.nanoTime(), "lost the rotation lock");
                throw new RotationException(RotationException.Kind.UNAVAILABLE, "lost the lock tresor-rotation:" + config.name()
                        + " before " + step.wireName() + " (" + why + "); stopped here, since another node may be running "
                        + "this rotation now. The next run finishes what this one left");
            }
        }

        private void report(Step step, StepResult.Outcome outcome, long start, String detail) {
            StepResult r = new StepResult(step, outcome, Duration.ofNanos(System.nanoTime() - start), detail);
            results.add(r);
            listener.step(r);
        }

        void execute() {
            if (config.target().tlsMode() == TlsMode.DISABLE) {
                listener.warning("TLS to the database is DISABLED (target.tls.mode: disable in " + config.source()
                        + "): passwords cross the network in clear. Use require or verify-full outside tests.");
            }
            step(Step.READ_SECRETS, () -> {
                slots = api.state(config.slotSecret(), SlotDocument::parse);
                admin = api.state(config.adminSecret(), SlotDocument::parseCredentials);
                activeBefore = slots.current().value().activeSlot();
                activeAfter = activeBefore;
                return config.slotSecret() + " v" + slots.currentVersion() + " (active " + activeBefore + ")"
                        + slots.pending().map(p -> ", pending v" + p.version()).orElse("") + "; " + config.adminSecret()
                        + " v" + admin.currentVersion() + admin.pending().map(p -> ", pending v" + p.version()).orElse("");
            });
            step(Step.ADMIN_LOGIN, this::findAdmin);
            try (AdminSession db = target.admin(adminLogin, slots.current().value().get(Slot.A).dbname())) {
                step(Step.LOCK, () -> {
                    if (!db.tryLock(config.name())) {
                        throw new RotationException(RotationException.Kind.BUSY, "another rotation of '" + config.name()
                                + "' is running (it holds the database lock tresor-rotation:" + config.name()
                                + "); nothing was changed. Let it finish, then rerun if needed");
                    }
                    locked = db;
                    return dry() ? "lock is free (released again at the end of the dry run)" : "held until the run ends";
                });
                step(Step.HEAL_ADMIN, this::healAdmin);
                step(Step.ENSURE_USERS, () -> ensureUsers(db));
                step(Step.SYNC_CONSUMERS, this::syncConsumers);
                rotate(db);
            }
        }

        // ---------------------------------------------------------------- admin

        private String findAdmin() {
            List<String[]> tried = new ArrayList<>();
            List<Object[]> candidates = new ArrayList<>();
            candidates.add(new Object[] {admin.current().value(), "current v" + admin.currentVersion()});
            admin.pending().ifPresent(p -> candidates.add(new Object[] {p.value(), "pending v" + p.version()}));
            String user = admin.current().value().username();
            for (Slot slot : Slot.values()) {
                DbCredentials c = slots.current().value().get(slot);
                if (c.username().equals(user)) {
                    candidates.add(new Object[] {admin.current().value().withPassword(c.password()), "slot " + slot + " password"});
                }
            }
            for (Object[] c : candidates) {
                DbCredentials creds = (DbCredentials) c[0];
                if (target.tryLogin(creds) == Login.OK) {
                    adminLogin = creds;
                    adminSource = (String) c[1];
                    return "logged in as " + user + " with the " + adminSource + " password";
                }
                tried.add(new String[] {(String) c[1]});
            }
            throw new RotationException(RotationException.Kind.STATE, "no stored admin password logs in as " + user
                    + " (tried " + String.join(", ", tried.stream().map(t -> t[0]).toList()) + " of " + config.adminSecret()
                    + "). Fix: set a known password on the database by hand ("
                    + (config.target().kind() == dev.tresor.rotation.config.TargetKind.POSTGRESQL
                    ? "ALTER ROLE " + user + " PASSWORD '...'" : "ALTER USER '" + user + "'@'...' IDENTIFIED BY '...'")
                    + "), store it as the new current version of " + config.adminSecret()
                    + " (tresor secret put " + config.adminSecret() + " - < admin.json), then rerun");
        }

        private String healAdmin() {
            if (adminSource.startsWith("current")) {
                return "skip: the current admin password works";
            }
            if (dry()) {
                return "would record the " + adminSource + " admin password as current";
            }
            if (adminSource.startsWith("pending")) {
                int pending = admin.pending().orElseThrow().version();
                api.label(config.adminSecret(), "current", pending, admin.currentVersion());
                admin = new SecretState<>(admin.name(), new Versioned<>(pending, adminLogin), Optional.empty());
            } else {
                int version = api.put(config.adminSecret(), SlotDocument.toJson(adminLogin), admin.currentVersion(), List.of("current"));
                admin = new SecretState<>(admin.name(), new Versioned<>(version, adminLogin), Optional.empty());
            }
            String what = "admin password from " + adminSource + " recorded as current v" + admin.currentVersion();
            healed.add(what);
            return what;
        }

        // ---------------------------------------------------------------- reconcile

        private String ensureUsers(AdminSession db) {
            List<String> notes = new ArrayList<>();
            SlotDocument current = slots.current().value();
            // Users first: a missing one is created with its stored password.
            for (Slot slot : Slot.values()) {
                DbCredentials c = current.get(slot);
                if (!db.userExists(c.username())) {
                    if (dry()) {
                        notes.add("would create missing user " + c.username() + " (slot " + slot + ")");
                    } else {
                        db.createUser(c.username(), c.password());
                        heal(notes, "created missing user " + c.username() + " (slot " + slot + ") with its stored password");
                    }
                }
            }
            // Privileges: re-applied every run (GRANT is idempotent); a change means they had drifted.
            for (Slot slot : Slot.values()) {
                String user = current.get(slot).username();
                if (dry()) {
                    if (db.userExists(user) && !db.hasRole(user)) {
                        notes.add("would grant role " + config.target().role() + " to " + user);
                    }
                    continue;
                }
                String before = db.privilegeSnapshot(user);
                db.ensurePrivileges(user);
                if (!before.equals(db.privilegeSnapshot(user))) {
                    heal(notes, "re-granted the declared privileges of " + user + " (slot " + slot + "): they had drifted");
                }
            }
            seen = observe(db, slots);
            Slot active = seen.consumersAt().map(Candidate::slot).orElse(current.activeSlot());
            Map<Slot, DbCredentials> real = new EnumMap<>(Slot.class);
            for (Slot slot : Slot.values()) {
                SlotView view = seen.slots().get(slot);
                if (view.working() != null) {
                    real.put(slot, view.working());
                    if (!view.working().equals(current.get(slot))) {
                        notes.add("slot " + slot + " logs in with the " + view.source() + " password");
                    }
                    continue;
                }
                DbCredentials stored = current.get(slot);
                real.put(slot, stored);
                if (!view.exists() && dry()) {
                    continue; // planned above
                }
                if (slot != active || options.syncDbUsers()) {
                    if (dry()) {
                        notes.add("would set the stored password on " + stored.username() + " (slot " + slot + "): it does not log in");
                    } else {
                        db.setPassword(stored.username(), stored.password());
                        heal(notes, "set the stored password on " + stored.username() + " (slot " + slot + ", "
                                + (slot == active ? "active, --sync-db-users" : "standby") + "): it did not log in");
                    }
                } else {
                    throw new RotationException(RotationException.Kind.STATE, "the active slot " + slot + " user "
                            + stored.username() + " does not log in with the password stored in " + config.slotSecret() + " v"
                            + slots.currentVersion() + (slots.pending().isPresent() ? " (nor the pending one)" : "")
                            + ": it was changed outside Tresor, and the application may already be failing. Fix: rerun with"
                            + " --sync-db-users to set the stored password on the database and redeliver it to every consumer"
                            + " (or store the password the database has as a new version of " + config.slotSecret() + ")");
                }
            }
            SlotDocument reality = new SlotDocument(active, real);
            truth = reality;
            truthVersion = slots.currentVersion();
            if (!reality.equals(current)) {
                String why = active != current.activeSlot()
                        ? "the consumers already use slot " + active + " (a run stopped after delivering)"
                        : "a run stopped after setting a password";
                if (dry()) {
                    notes.add("would record reality as the current version of " + config.slotSecret() + ": " + why);
                } else {
                    Optional<Versioned<SlotDocument>> pending = slots.pending();
                    if (pending.isPresent() && pending.get().value().equals(reality)) {
                        api.label(config.slotSecret(), "current", pending.get().version(), slots.currentVersion());
                        truthVersion = pending.get().version();
                    } else {
                        truthVersion = api.put(config.slotSecret(), reality.toJson(), slots.currentVersion(), List.of("current"));
                    }
                    heal(notes, "recorded reality as current v" + truthVersion + " of " + config.slotSecret() + ": " + why);
                }
            }
            activeAfter = truth.activeSlot();
            if (notes.isEmpty()) {
                return "both users exist, log in with their stored passwords and hold role " + config.target().role();
            }
            return String.join("; ", notes);
        }

        private void heal(List<String> notes, String what) {
            healed.add(what);
            notes.add(what);
        }

        private String syncConsumers() {
            Slot active = truth.activeSlot();
            DbCredentials creds = truth.active();
            boolean moved = active != slots.current().value().activeSlot();
            List<String> stale = new ArrayList<>();
            for (Map.Entry<Consumer, Optional<Candidate>> e : seen.held().entrySet()) {
                if (e.getValue().isEmpty() || !e.getValue().get().equals(new Candidate(active, creds))) {
                    stale.add(e.getKey().describe());
                }
            }
            boolean synced = options.syncDbUsers() && seen.slots().get(active).working() == null;
            if (stale.isEmpty() && !moved && !synced) {
                return "skip: every consumer that can tell holds slot " + active;
            }
            if (dry()) {
                return "would deliver slot " + active + " to " + (stale.isEmpty() ? "every consumer" : String.join(", ", stale))
                        + " and validate";
            }
            if (!stale.isEmpty() || synced) {
                deliverAll(creds, active);
            }
            try {
                awaitAndValidate(creds);
            } catch (RotationException e) {
                Slot other = active.other();
                if (seen.slots().get(other).working() == null) {
                    throw e;
                }
                rollbackTo(other, truth.get(other), "validation of slot " + active + " after a restart failed: " + e.getMessage());
            }
            return "consumers hold slot " + active + (stale.isEmpty() ? "" : " (redelivered to " + String.join(", ", stale) + ")")
                    + "; validated";
        }

        // ---------------------------------------------------------------- rotation

        private void rotate(AdminSession db) {
            Slot old = truth.activeSlot();
            Slot standby = old.other();
            DbCredentials oldCreds = truth.get(old);
            DbCredentials next = truth.get(standby).withPassword(passwords.next());
            SlotDocument flipped = truth.with(standby, next).withActive(standby);
            int[] pendingVersion = {0};
            step(Step.WRITE_PENDING, () -> {
                if (dry()) {
                    return "would store a new password for " + next.username() + " (slot " + standby + ") as pending, cas v" + truthVersion;
                }
                pendingVersion[0] = api.put(config.slotSecret(), flipped.toJson(), truthVersion, List.of("pending"));
                return config.slotSecret() + " v" + pendingVersion[0] + " pending (slot " + standby + " new password, active " + standby + ")";
            });
            step(Step.SET_PASSWORD, () -> {
                if (dry()) {
                    return "would set it on " + next.username();
                }
                db.setPassword(next.username(), next.password());
                return "set on " + next.username();
            });
            step(Step.VERIFY_LOGIN, () -> {
                if (dry()) {
                    return "would log in as " + next.username() + " and run the probe";
                }
                if (target.tryLogin(next) != Login.OK) {
                    throw new RotationException(RotationException.Kind.FAILED, next.username() + " does not log in with the"
                            + " password just set; nothing was delivered, the application still uses slot " + old + ". Rerun");
                }
                return "logged in as " + next.username();
            });
            step(Step.DELIVER, () -> {
                if (dry()) {
                    return "would deliver slot " + standby + " to " + consumers.stream().map(Consumer::describe).toList();
                }
                try {
                    deliverAll(next, standby);
                } catch (RotationException e) {
                    rollbackAfterFailure(old, oldCreds, standby, next, pendingVersion[0], false, e.getMessage());
                }
                return "slot " + standby + " delivered to " + consumers.size() + " consumer(s)";
            });
            step(Step.WAIT_APP, () -> {
                if (dry()) {
                    return "would wait up to " + config.timeouts().appReady().toSeconds() + " s for the health checks";
                }
                try {
                    awaitReady();
                } catch (RotationException e) {
                    rollbackAfterFailure(old, oldCreds, standby, next, pendingVersion[0], false, e.getMessage());
                }
                return "application ready";
            });
            step(Step.VALIDATE, () -> {
                if (dry()) {
                    return "would validate: " + config.validation().sql() + " as " + next.username() + " and the health checks";
                }
                try {
                    validate(next);
                } catch (RotationException e) {
                    rollbackAfterFailure(old, oldCreds, standby, next, pendingVersion[0], false, e.getMessage());
                }
                return "database probe and health checks pass on slot " + standby;
            });
            step(Step.FLIP, () -> {
                if (dry()) {
                    return "would make slot " + standby + " active (label current)";
                }
                api.label(config.slotSecret(), "current", pendingVersion[0], truthVersion);
                activeAfter = standby;
                return config.slotSecret() + " v" + pendingVersion[0] + " is current: slot " + standby + " active";
            });
            step(Step.CONFIRM, () -> {
                if (dry()) {
                    return "would validate again";
                }
                try {
                    validate(next);
                } catch (RotationException e) {
                    rollbackAfterFailure(old, oldCreds, standby, next, pendingVersion[0], true, e.getMessage());
                }
                return "still valid after the flip";
            });
            step(Step.DRAIN, () -> {
                if (dry()) {
                    return "would wait " + config.timeouts().drain().toMillis() + " ms";
                }
                Thread.sleep(config.timeouts().drain());
                return "waited " + config.timeouts().drain().toMillis() + " ms before touching slot " + old;
            });
            DbCredentials oldNext = oldCreds.withPassword(passwords.next());
            SlotDocument finalDoc = flipped.with(old, oldNext);
            int[] oldVersion = {0};
            step(Step.OLD_PENDING, () -> {
                if (dry()) {
                    return "would store a new password for " + oldCreds.username() + " (slot " + old + ") as pending";
                }
                oldVersion[0] = api.put(config.slotSecret(), finalDoc.toJson(), pendingVersion[0], List.of("pending"));
                return config.slotSecret() + " v" + oldVersion[0] + " pending (slot " + old + " new password)";
            });
            step(Step.OLD_PASSWORD, () -> {
                if (dry()) {
                    return "would set it on " + oldCreds.username();
                }
                db.setPassword(oldCreds.username(), oldNext.password());
                if (target.tryLogin(oldNext) != Login.OK) {
                    throw new RotationException(RotationException.Kind.FAILED, oldCreds.username()
                            + " does not log in with the password just set; rerun to repair (the application is unaffected)");
                }
                return "set on " + oldCreds.username() + " and logged in";
            });
            step(Step.OLD_COMMIT, () -> {
                if (dry()) {
                    return "would make it current";
                }
                api.label(config.slotSecret(), "current", oldVersion[0], pendingVersion[0]);
                return config.slotSecret() + " v" + oldVersion[0] + " is current";
            });
            DbCredentials adminNext = admin.current().value().withPassword(passwords.next());
            int[] adminVersion = {0};
            step(Step.ADMIN_PENDING, () -> {
                if (dry()) {
                    return "would store a new admin password as pending in " + config.adminSecret();
                }
                adminVersion[0] = api.put(config.adminSecret(), SlotDocument.toJson(adminNext), admin.currentVersion(), List.of("pending"));
                return config.adminSecret() + " v" + adminVersion[0] + " pending";
            });
            step(Step.ADMIN_PASSWORD, () -> {
                if (dry()) {
                    return "would set it on " + adminNext.username();
                }
                db.setOwnPassword(adminNext.username(), adminNext.password());
                if (target.tryLogin(adminNext) != Login.OK) {
                    throw new RotationException(RotationException.Kind.FAILED, "the admin user " + adminNext.username()
                            + " does not log in with the password just set; rerun (the pending admin password is tried first)");
                }
                return "set on " + adminNext.username() + " and logged in";
            });
            step(Step.ADMIN_COMMIT, () -> {
                if (dry()) {
                    return "would make it current";
                }
                api.label(config.adminSecret(), "current", adminVersion[0], admin.currentVersion());
                return config.adminSecret() + " v" + adminVersion[0] + " is current";
            });
        }

        // ---------------------------------------------------------------- delivery, validation, rollback

        private void deliverAll(DbCredentials creds, Slot slot) {
            for (Consumer c : consumers) {
                try {
                    c.deliver(creds, slot);
                } catch (ConsumerFailure e) {
                    throw new RotationException(RotationException.Kind.FAILED, e.getMessage());
                }
            }
        }

        private void awaitReady() {
            for (Consumer c : consumers) {
                try {
                    c.awaitReady(config.timeouts().appReady());
                } catch (ConsumerFailure e) {
                    if (c.fatal()) {
                        throw new RotationException(RotationException.Kind.FAILED, e.getMessage());
                    }
                    listener.warning(e.getMessage() + " (not fatal)");
                }
            }
        }

        private void validate(DbCredentials creds) {
            for (Consumer c : consumers) {
                try {
                    c.check();
                } catch (ConsumerFailure e) {
                    if (c.fatal()) {
                        throw new RotationException(RotationException.Kind.FAILED, e.getMessage());
                    }
                    listener.warning(e.getMessage() + " (not fatal)");
                }
            }
            try {
                target.probe(creds, config.validation().sql());
            } catch (ProbeFailure e) {
                if (config.validation().fatal()) {
                    throw new RotationException(RotationException.Kind.FAILED, e.getMessage());
                }
                listener.warning(e.getMessage() + " (validation.fatal is false)");
            }
        }

        private void awaitAndValidate(DbCredentials creds) {
            awaitReady();
            validate(creds);
        }

        /**
         * Validation of the new slot failed: put the consumers back on the old slot (whose password
         * was never touched), validate that, record in Tresor that the old slot is active and that the
         * standby has its new password (it is set in the database), and stop with ROLLED_BACK.
         */
        private void rollbackAfterFailure(Slot old, DbCredentials oldCreds, Slot standby, DbCredentials next, int pendingVersion,
                                          boolean flipped, String reason) {
            ensureStillLocked(Step.ROLLBACK);
            String when = flipped ? "after the flip" : "before the flip";
            long start = System.nanoTime();
            String outcome;
            try {
                deliverAll(oldCreds, old);
                awaitAndValidate(oldCreds);
                outcome = "consumers are back on slot " + old + " and it validates";
            } catch (RotationException e) {
                outcome = "consumers were put back on slot " + old + " but it does not validate either: " + e.getMessage();
            }
            SlotDocument back = truth.with(standby, next);
            int cas = flipped ? pendingVersion : truthVersion;
            int recorded = api.put(config.slotSecret(), back.toJson(), cas, List.of("current"));
            activeAfter = old;
            report(Step.ROLLBACK, StepResult.Outcome.OK, start, outcome + "; " + config.slotSecret() + " v" + recorded
                    + " records slot " + old + " active");
            throw new RotationException(RotationException.Kind.ROLLED_BACK, "validation of slot " + standby + " failed " + when
                    + " (" + reason + "); rolled back: " + outcome + ". Fix the cause, then rerun");
        }

        private void rollbackTo(Slot slot, DbCredentials creds, String reason) {
            long start = System.nanoTime();
            deliverAll(creds, slot);
            awaitAndValidate(creds);
            SlotDocument back = truth.withActive(slot);
            truthVersion = api.put(config.slotSecret(), back.toJson(), truthVersion, List.of("current"));
            truth = back;
            activeAfter = slot;
            report(Step.ROLLBACK, StepResult.Outcome.OK, start, "consumers back on slot " + slot + "; v" + truthVersion);
            throw new RotationException(RotationException.Kind.ROLLED_BACK, reason + "; rolled back to slot " + slot
                    + ". Fix the cause, then rerun");
        }
    }
}
