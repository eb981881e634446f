package dev.tresor.store;

/** The few places where SQLite and PostgreSQL SQL differ. */
enum Dialect {
    SQLITE("sqlite", ""),
    POSTGRESQL("postgresql", " FOR UPDATE");

    private final String migrationFolder;
    private final String forUpdate;

    Dialect(String migrationFolder, String forUpdate) {
        this.migrationFolder = migrationFolder;
        this.forUpdate = forUpdate;
    }

    String migrationLocation() {
        return "classpath:db/migration/" + migrationFolder;
    }

    /** Row lock clause; SQLite needs none because its write transactions are exclusive (BEGIN IMMEDIATE). */
    String forUpdate() {
        return forUpdate;
    }

    String kind() {
        return migrationFolder;
    }
}
