package dev.tresor.rotation;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The steps of a rotation run, in order. Each one is idempotent and its name is a boundary a test
 * can crash the process at ({@link CrashHook}).
 */
public enum Step {
    READ_SECRETS("read-secrets", "read the slot and admin secrets (current and pending versions)"),
    ADMIN_LOGIN("admin-login", "find an admin password that logs in (current, pending, or a slot's)"),
    LOCK("lock", "take the database advisory lock of this rotation"),
    HEAL_ADMIN("heal-admin", "record the admin password that works as current"),
    ENSURE_USERS("ensure-users", "both slot users exist, log in with a stored password, have the declared privileges"),
    SYNC_CONSUMERS("sync-consumers", "consumers hold the active slot's credentials"),
    WRITE_PENDING("write-pending", "store the standby's new password as pending (write-ahead)"),
    SET_PASSWORD("set-password", "set the standby's new password in the database"),
    VERIFY_LOGIN("verify-login", "log in as the standby with the new password and run the probe"),
    DELIVER("deliver", "deliver the standby's credentials to every consumer"),
    WAIT_APP("wait-app", "wait until the application answers its health checks"),
    VALIDATE("validate", "validate the database probe and health checks on the new slot"),
    FLIP("flip", "make the new slot active (label current)"),
    CONFIRM("confirm", "validate again after the flip"),
    DRAIN("drain", "let connections opened with the old credentials finish"),
    OLD_PENDING("old-pending", "store a fresh password for the old slot as pending"),
    OLD_PASSWORD("old-password", "set it in the database"),
    OLD_COMMIT("old-commit", "make it current"),
    ADMIN_PENDING("admin-pending", "store a fresh admin password as pending"),
    ADMIN_PASSWORD("admin-password", "set it in the database"),
    ADMIN_COMMIT("admin-commit", "make it current"),
    ROLLBACK("rollback", "put every consumer back on the last working slot and validate");

    private final String wireName;
    private final String purpose;

    Step(String wireName, String purpose) {
        this.wireName = wireName;
        this.purpose = purpose;
    }

    public String wireName() {
        return wireName;
    }

    public String purpose() {
        return purpose;
    }

    public static Step parse(String text) {
        for (Step s : values()) {
            if (s.wireName.equals(text)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown step '" + text + "'; steps are "
                + Arrays.stream(values()).map(Step::wireName).collect(Collectors.joining(", ")));
    }
}
