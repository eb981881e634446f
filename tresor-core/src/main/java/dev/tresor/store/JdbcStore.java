package dev.tresor.store;

import com.zaxxer.hikari.HikariDataSource;
import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.ChangeBounds;
import dev.tresor.store.Rows.ChangeRow;
import dev.tresor.store.Rows.IssuedCertRow;
import dev.tresor.store.Rows.JoinTokenRow;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.GrantRow;
import dev.tresor.store.Rows.GroupRow;
import dev.tresor.store.Rows.KeyRow;
import dev.tresor.store.Rows.MembershipRow;
import dev.tresor.store.Rows.SecretBucketRow;
import dev.tresor.store.Rows.SecretHeadRow;
import dev.tresor.store.Rows.StoreHeadRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The JDBC store for both SQLite and PostgreSQL. The SQL is the common subset of both
 * (including {@code INSERT ... ON CONFLICT}); {@link Dialect} covers the rest.
 */
final class JdbcStore implements Store {

    private final HikariDataSource pool;
    private final Dialect dialect;
    /** SQLite has one writer at a time; queueing writers here is cheaper than SQLite's busy-wait. */
    private final ReentrantLock sqliteWriteLock = new ReentrantLock(true);

    /** SQLite only: sees commits from anywhere; PostgreSQL compares snapshots instead. */
    private final SqliteChangeWatch sqliteWatch;

    /** @param sqliteFile the database file (SQLite only, else null) */
    private final java.util.Set<String> migratedNow;

    /** Opens a connection outside the pool (PostgreSQL: the one that LISTENs); null for SQLite. */
    private final ConnectionOpener unpooled;
    /** Told after every commit of this process that recorded changes. */
    private final java.util.List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    @FunctionalInterface
    interface ConnectionOpener {
        Connection open() throws SQLException;
    }

    /** See {@link StoreConfig#changeRecheck()}. */
    private final long changeRecheckMillis;
    /** PostgreSQL: the LISTEN connection's state, replaced whole by the listening thread. */
    private final java.util.concurrent.atomic.AtomicReference<ChangeListenerStatus> listenerStatus =
            new java.util.concurrent.atomic.AtomicReference<>(ChangeListenerStatus.NOT_STARTED);

    JdbcStore(HikariDataSource pool, Dialect dialect, javax.sql.DataSource sqliteSource, java.nio.file.Path sqliteFile,
              java.util.Set<String> migratedNow, ConnectionOpener unpooled, java.time.Duration changeRecheck) {
        this.changeRecheckMillis = changeRecheck.toMillis();
        this.unpooled = unpooled;
        this.migratedNow = java.util.Set.copyOf(migratedNow);
        this.pool = pool;
        this.dialect = dialect;
        this.sqliteWatch = dialect == Dialect.SQLITE ? new SqliteChangeWatch(sqliteSource, sqliteFile) : null;
    }

    @Override
    public Object changeToken() {
        if (sqliteWatch != null) {
            return sqliteWatch.token();
        }
        // A PostgreSQL snapshot (xmin:xmax:in-progress ids) fixes exactly which commits are
        // visible; the same text twice means no transaction with writes committed in between.
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT pg_current_snapshot()::text");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return new Object();
        }
    }

    @Override
    public <T> T read(Function<StoreReader, T> work) {
        // One snapshot for the whole read: checks that compare rows with each other (a client
        // with its memberships and the ACL head) must not see half of a concurrent commit.
        try (Connection c = pool.getConnection()) {
            if (dialect == Dialect.SQLITE) {
                // The pool opens write transactions with BEGIN IMMEDIATE; a reader must not take
                // the write lock, so it opens a deferred (snapshot) transaction by hand.
                c.setAutoCommit(true);
                execute(c, "BEGIN DEFERRED");
                try {
                    return work.apply(new Session(c));
                } finally {
                    execute(c, "COMMIT");
                }
            }
            c.setAutoCommit(false);
            try {
                execute(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                T result = work.apply(new Session(c));
                c.commit();
                return result;
            } catch (RuntimeException | Error e) {
                rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw translate("read", e);
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Override
    public <T> T write(Function<StoreWriter, T> work) {
        boolean serialise = dialect == Dialect.SQLITE;
        if (serialise) {
            sqliteWriteLock.lock();
        }
        boolean recordedChanges;
        T result;
        Session session;
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                session = new Session(c);
                result = work.apply(session);
                recordedChanges = session.flushChanges();
                c.commit();
            } catch (RuntimeException | Error e) {
                rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw translate("write", e);
        } finally {
            if (serialise) {
                sqliteWriteLock.unlock();
            }
        }
        for (Runnable action : session.afterCommit) {
            action.run();
        }
        if (recordedChanges) {
            for (Runnable listener : changeListeners) {
                listener.run();
            }
        }
        return result;
    }

    @Override
    public AutoCloseable watchChanges(Runnable listener) {
        changeListeners.add(listener);
        Thread watcher = dialect == Dialect.SQLITE
                ? Thread.ofPlatform().daemon().name("tresor-change-poll").start(() -> pollSqlite(listener))
                : Thread.ofPlatform().daemon().name("tresor-change-listen").start(() -> listenPostgres(listener));
        return () -> {
            changeListeners.remove(listener);
            watcher.interrupt();
            watcher.join(5_000);
        };
    }

    @Override
    public java.util.Optional<ChangeListenerStatus> changeListener() {
        return dialect == Dialect.POSTGRESQL ? java.util.Optional.of(listenerStatus.get()) : java.util.Optional.empty();
    }
    /** SQLite has no notifications; another process's commit shows in the wal-index header (cheap to read). */
    static final long SQLITE_POLL_MILLIS = 200;

    private void pollSqlite(Runnable listener) {
        Object last = changeToken();
        long lastCall = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(SQLITE_POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            Object now = changeToken();
            boolean recheck = System.nanoTime() - lastCall > changeRecheckMillis * 1_000_000L;
            if (!now.equals(last) || recheck) {
                last = now;
                lastCall = System.nanoTime();
                notifyQuietly(listener);
            }
        }
    }

    /**
     * PostgreSQL: one connection of its own LISTENs on {@code tresor_changes}, which every commit
     * that recorded changes NOTIFYs (delivered at commit, by whichever node wrote). A lost
     * connection is logged, the listener re-reads at once (a notification may have been lost with
     * it), and the connection is re-opened with a growing pause; the periodic re-read covers the gap.
     */
    private void listenPostgres(Runnable listener) {
        long pauseMillis = 200;
        while (!Thread.currentThread().isInterrupted()) {
            try (Connection c = unpooled.open()) {
                execute(c, "LISTEN tresor_changes");
                org.postgresql.PGConnection pg = c.unwrap(org.postgresql.PGConnection.class);
                listenerStatus.updateAndGet(was -> new ChangeListenerStatus(true, pg.getBackendPID(), was.connects() + 1,
                        was.notifications()));
                // Whatever was committed while no connection listened is picked up here.
                notifyQuietly(listener);
                pauseMillis = 200;
                while (!Thread.currentThread().isInterrupted()) {
                    org.postgresql.PGNotification[] got = pg.getNotifications((int) Math.min(Integer.MAX_VALUE,
                            changeRecheckMillis));
                    if ((got == null || got.length == 0) && !c.isValid(2)) {
                        throw new SQLException("the notification connection stopped answering");
                    }
                    if (got != null && got.length > 0) {
                        listenerStatus.updateAndGet(was -> new ChangeListenerStatus(was.connected(), was.backendPid(),
                                was.connects(), was.notifications() + got.length));
                    }
                    // A notification, or the periodic re-read: either way the listener re-reads.
                    notifyQuietly(listener);
                }
                return;
            } catch (SQLException e) {
                listenerStatus.updateAndGet(was -> new ChangeListenerStatus(false, 0, was.connects(), was.notifications()));
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                org.slf4j.LoggerFactory.getLogger(JdbcStore.class).warn(
                        "change feed: lost the PostgreSQL notification connection ({}); re-reading, reconnecting in {} ms",
                        e.getMessage(), pauseMillis);
                notifyQuietly(listener);
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException interrupted) {
                    return;
                }
                pauseMillis = Math.min(pauseMillis * 2, Math.max(200, Math.min(changeRecheckMillis, 5_000)));
            } finally {
                if (Thread.currentThread().isInterrupted()) {
                    listenerStatus.updateAndGet(was -> new ChangeListenerStatus(false, 0, was.connects(), was.notifications()));
                }
            }
        }
    }

    private static void notifyQuietly(Runnable listener) {
        try {
            listener.run();
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JdbcStore.class).warn("change feed: re-reading the change table failed: {}",
                    e.getMessage());
        }
    }

    private static void rollbackQuietly(Connection c, Throwable cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    @Override
    public boolean migratedNow(String schemaVersion) {
        return migratedNow.contains(schemaVersion);
    }

    @Override
    public String kind() {
        return dialect.kind();
    }

    @Override
    public boolean ping() {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next();
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public java.util.Optional<PoolUse> poolUse() {
        var bean = pool.getHikariPoolMXBean();
        if (bean == null) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new PoolUse(bean.getActiveConnections(), bean.getIdleConnections(),
                bean.getTotalConnections(), bean.getThreadsAwaitingConnection(), pool.getMaximumPoolSize()));
    }

    @Override
    public void close() {
        // Pool first: the watch's file handle on the wal-index must outlive every SQLite
        // connection of this process (closing it releases their fcntl locks, see SqliteChangeWatch).
        pool.close();
        if (sqliteWatch != null) {
            sqliteWatch.close();
        }
    }

    static StoreException translate(String what, SQLException e) {
        String state = e.getSQLState();
        boolean conflict = (state != null && state.equals("23505"))
                || (e.getMessage() != null && e.getMessage().contains("UNIQUE constraint failed"))
                || (e.getMessage() != null && e.getMessage().contains("PRIMARY KEY constraint failed"))
                || e.getErrorCode() == 19 && e.getMessage() != null && e.getMessage().contains("constraint");
        if (conflict) {
            return new StoreConflictException("row already exists", e);
        }
        return new StoreException("database " + what + " failed: " + e.getMessage(), e);
    }

    /** One connection's worth of statements; used for both reads and transactional writes. */
    /** Rows per page of {@link Session#contiguousAuditSeq}'s walk along the primary key. */
    private static final int CONTIGUOUS_PAGE = 10_000;

    private final class Session implements StoreWriter {

        private final Connection c;
        private final List<ChangeRow> pendingChanges = new ArrayList<>();
        private final List<Runnable> afterCommit = new ArrayList<>();

        Session(Connection c) {
            this.c = c;
        }

        @Override
        public void afterCommit(Runnable action) {
            afterCommit.add(action);
        }

        // ---------------------------------------------------------------- keys

        @Override
        public Optional<KeyRow> key(String purpose) {
            return one("SELECT purpose, kek_id, wrapped, created_at FROM crypto_keys WHERE purpose = ?",
                    rs -> new KeyRow(rs.getString(1), rs.getString(2), rs.getBytes(3), rs.getLong(4)), purpose);
        }

        @Override
        public void insertKey(KeyRow row) {
            update("INSERT INTO crypto_keys (purpose, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?)",
                    row.purpose(), row.kekId(), row.wrapped(), row.createdAt());
        }

        @Override
        public boolean updateKey(KeyRow row) {
            return update("UPDATE crypto_keys SET kek_id = ?, wrapped = ? WHERE purpose = ?",
                    row.kekId(), row.wrapped(), row.purpose()) == 1;
        }

        // ---------------------------------------------------------------- keyring

        @Override
        public Optional<Rows.KeyringRow> keyring() {
            return one("SELECT store_id, version, kek_id, wrapped, updated_at FROM keyring WHERE id = 1",
                    rs -> new Rows.KeyringRow(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getBytes(4),
                            rs.getLong(5)));
        }

        @Override
        public Optional<Rows.IdempotencyRow> idempotencyKey(String secret, String key) {
            return one("SELECT secret_name, idem_key, request_hash, version, labels, created_at FROM idempotency_keys "
                    + "WHERE secret_name = ? AND idem_key = ?",
                    rs -> new Rows.IdempotencyRow(rs.getString(1), rs.getString(2), rs.getBytes(3), rs.getInt(4),
                            rs.getString(5), rs.getLong(6)), secret, key);
        }

        @Override
        public void insertIdempotencyKey(Rows.IdempotencyRow row) {
            update("INSERT INTO idempotency_keys (secret_name, idem_key, request_hash, version, labels, created_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?)", row.secret(), row.key(), row.requestHash(), row.version(), row.labels(),
                    row.createdAt());
        }

        @Override
        public List<Rows.AuditRecordRow> auditRecords(Rows.AuditRecordQuery q) {
            StringBuilder sql = new StringBuilder("SELECT node, seq, at_millis, client, secret, line, mac FROM audit_records WHERE 1 = 1");
            List<Object> args = new ArrayList<>();
            if (q.node() != null) {
                sql.append(" AND node = ?");
                args.add(q.node());
            }
            if (q.notNode() != null) {
                sql.append(" AND node <> ?");
                args.add(q.notNode());
            }
            if (q.sinceMillis() != null) {
                sql.append(" AND at_millis >= ?");
                args.add(q.sinceMillis());
            }
            if (q.untilMillis() != null) {
                sql.append(" AND at_millis <= ?");
                args.add(q.untilMillis());
            }
            if (q.afterSeq() != null) {
                sql.append(" AND seq > ?");
                args.add(q.afterSeq());
            }
            if (q.beforeSeq() != null) {
                sql.append(" AND seq < ?");
                args.add(q.beforeSeq());
            }
            if (q.client() != null) {
                sql.append(" AND client = ?");
                args.add(q.client());
            }
            if (q.secret() != null) {
                sql.append(" AND secret = ?");
                args.add(q.secret());
            }
            sql.append(" ORDER BY at_millis DESC, node DESC, seq DESC LIMIT ?");
            args.add(q.limit());
            return many(sql.toString(), rs -> new Rows.AuditRecordRow(rs.getString(1), rs.getLong(2), rs.getLong(3),
                    rs.getString(4), rs.getString(5), rs.getString(6), rs.getBytes(7)), args.toArray());
        }

        @Override
        public long contiguousAuditSeq(String node) {
            // From the kept mark while its record is still there (pruning removes the oldest
            // first, so a mark whose record is gone is below the oldest copy kept); else from the
            // oldest copy. Then forward along the primary key (node, seq), a page at a time, to
            // the first missing seq: cost in proportion to the records copied since the mark.
            Optional<Long> start = one("SELECT m.seq FROM audit_copy_marks m WHERE m.node = ? AND EXISTS "
                    + "(SELECT 1 FROM audit_records a WHERE a.node = m.node AND a.seq = m.seq)", rs -> rs.getLong(1), node);
            if (start.isEmpty()) {
                start = one("SELECT seq FROM audit_records WHERE node = ? ORDER BY seq LIMIT 1", rs -> rs.getLong(1), node);
            }
            if (start.isEmpty()) {
                return 0L;
            }
            long last = start.get();
            while (true) {
                List<Long> page = many("SELECT seq FROM audit_records WHERE node = ? AND seq > ? ORDER BY seq LIMIT ?",
                        rs -> rs.getLong(1), node, last, CONTIGUOUS_PAGE);
                for (long seq : page) {
                    if (seq != last + 1) {
                        return last;
                    }
                    last = seq;
                }
                if (page.size() < CONTIGUOUS_PAGE) {
                    return last;
                }
            }
        }

        @Override
        public void keepAuditCopyMark(String node, long seq) {
            update("INSERT INTO audit_copy_marks (node, seq) VALUES (?, ?) "
                    + "ON CONFLICT (node) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > audit_copy_marks.seq", node, seq);
        }

        @Override
        public void copyAuditRecords(List<Rows.AuditRecordRow> rows) {
            // One batch (pipelined by the driver), not a round trip per record.
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_records (node, seq, at_millis, client, secret, line, mac) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node, seq) DO NOTHING")) {
                for (Rows.AuditRecordRow r : rows) {
                    bind(ps, new Object[] {r.node(), r.seq(), r.atMillis(), r.client(), r.secret(), r.line(), r.mac()});
                    ps.addBatch();
                }
                ps.executeBatch();
            } catch (SQLException e) {
                throw translate("update", e);
            }
        }

        @Override
        public int pruneAuditRecords(long millis) {
            return update("DELETE FROM audit_records WHERE at_millis < ?", millis);
        }

        @Override
        public int deleteIdempotencyKeysBefore(long millis) {
            return update("DELETE FROM idempotency_keys WHERE created_at < ?", millis);
        }

        @Override
        public Optional<Rows.KeyringMigrationRow> keyringMigration(String name) {
            return one("SELECT name, from_kek_id, keyring_version, rewrapped, unreadable, finished_at "
                    + "FROM keyring_migrations WHERE name = ?",
                    rs -> new Rows.KeyringMigrationRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4),
                            rs.getLong(5), rs.getLong(6)), name);
        }

        @Override
        public List<byte[]> wrappedKeyPrefixes(int length) {
            // substr on a BLOB (SQLite) and on a bytea (PostgreSQL) both count bytes.
            return many("SELECT DISTINCT substr(wrapped_key, 1, ?) FROM secret_versions WHERE wrapped_key IS NOT NULL",
                    rs -> rs.getBytes(1), length);
        }

        @Override
        public List<String> secretsWithDataKeysNotUnder(byte[] prefix, String after, int limit) {
            // substr on a BLOB (SQLite) and on a bytea (PostgreSQL) both count bytes.
            return many("SELECT DISTINCT secret_name FROM secret_versions WHERE wrapped_key IS NOT NULL "
                    + "AND substr(wrapped_key, 1, ?) <> ? AND secret_name > ? ORDER BY secret_name LIMIT ?",
                    rs -> rs.getString(1), prefix.length, prefix, after == null ? "" : after, limit);
        }

        @Override
        public List<Rows.KeyPrefixCount> wrappedKeyPrefixCounts(int length) {
            return many("SELECT p, count(*) FROM (SELECT substr(wrapped_key, 1, ?) AS p FROM secret_versions "
                    + "WHERE wrapped_key IS NOT NULL) k GROUP BY p",
                    rs -> new Rows.KeyPrefixCount(rs.getBytes(1), rs.getLong(2)), length);
        }

        @Override
        public void insertKeyring(Rows.KeyringRow row) {
            update("INSERT INTO keyring (id, store_id, version, kek_id, wrapped, updated_at) VALUES (1, ?, ?, ?, ?, ?)",
                    row.storeId(), row.version(), row.kekId(), row.wrapped(), row.updatedAt());
        }

        @Override
        public boolean replaceKeyring(Rows.KeyringRow row, long expectedVersion) {
            return update("UPDATE keyring SET store_id = ?, version = ?, kek_id = ?, wrapped = ?, updated_at = ? "
                    + "WHERE id = 1 AND version = ?",
                    row.storeId(), row.version(), row.kekId(), row.wrapped(), row.updatedAt(), expectedVersion) == 1;
        }

        @Override
        public void insertKeyringMigration(Rows.KeyringMigrationRow row) {
            update("INSERT INTO keyring_migrations (name, from_kek_id, keyring_version, rewrapped, unreadable, "
                    + "finished_at) VALUES (?, ?, ?, ?, ?, ?)", row.name(), row.fromKekId(), row.keyringVersion(),
                    row.rewrapped(), row.unreadable(), row.finishedAt());
        }

        // ---------------------------------------------------------------- ACL

        @Override
        public Optional<AclHeadRow> aclHead() {
            return one("SELECT epoch, registry, mac FROM acl_head WHERE id = 1", JdbcStore::aclHead);
        }

        @Override
        public Optional<AclHeadRow> lockAclHead() {
            return one("SELECT epoch, registry, mac FROM acl_head WHERE id = 1" + dialect.forUpdate(), JdbcStore::aclHead);
        }

        @Override
        public void putAclHead(AclHeadRow row) {
            update("INSERT INTO acl_head (id, epoch, registry, mac) VALUES (1, ?, ?, ?) "
                    + "ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, registry = excluded.registry, mac = excluded.mac",
                    row.epoch(), row.registry(), row.mac());
        }

        @Override
        public void createHeadsIfMissing(AclHeadRow aclHead, SecretHeadRow secretHead, StoreHeadRow storeHead) {
            update("INSERT INTO acl_head (id, epoch, registry, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    aclHead.epoch(), aclHead.registry(), aclHead.mac());
            update("INSERT INTO secret_head (id, epoch, bucket_sum, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    secretHead.epoch(), secretHead.bucketSum(), secretHead.mac());
            update("INSERT INTO store_head (id, acl_epoch, acl_mac, secret_epoch, secret_mac, mac, keyring_version) "
                    + "VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", storeHead.aclEpoch(), storeHead.aclMac(),
                    storeHead.secretEpoch(), storeHead.secretMac(), storeHead.mac(), storeHead.keyringVersion());
        }

        @Override
        public List<ClientRow> clients() {
            return many("SELECT " + CLIENT_COLUMNS + " FROM clients ORDER BY name",
                    JdbcStore::client);
        }

        private static final String CLIENT_COLUMNS =
                "name, identity, admin, enabled, groups_digest, created_at, created_by, certs_issued, mac";

        @Override
        public Optional<ClientRow> client(String name) {
            return one("SELECT " + CLIENT_COLUMNS + " FROM clients WHERE name = ?", JdbcStore::client, name);
        }

        @Override
        public Optional<ClientRow> clientByIdentity(String identity) {
            return one("SELECT " + CLIENT_COLUMNS + " FROM clients WHERE identity = ?", JdbcStore::client, identity);
        }

        @Override
        public boolean anyClient() {
            return one("SELECT 1 FROM clients LIMIT 1", rs -> Boolean.TRUE).isPresent();
        }

        @Override
        public List<MembershipRow> membershipsOfClient(String client) {
            return many("SELECT group_name, client_name, role, mac FROM memberships WHERE client_name = ? ORDER BY group_name",
                    rs -> new MembershipRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBytes(4)), client);
        }

        @Override
        public List<MembershipRow> membershipsOfGroup(String group) {
            return many("SELECT group_name, client_name, role, mac FROM memberships WHERE group_name = ? ORDER BY client_name",
                    rs -> new MembershipRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBytes(4)), group);
        }

        @Override
        public void insertClient(ClientRow r) {
            update("INSERT INTO clients (name, identity, admin, enabled, groups_digest, created_at, created_by, certs_issued, mac) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    r.name(), r.identity(), r.admin(), r.enabled(), r.groupsDigest(), r.createdAt(), r.createdBy(),
                    r.certsIssued(), r.mac());
        }

        @Override
        public void updateClient(ClientRow r) {
            update("UPDATE clients SET identity = ?, admin = ?, enabled = ?, groups_digest = ?, created_at = ?, "
                    + "created_by = ?, certs_issued = ?, mac = ? WHERE name = ?",
                    r.identity(), r.admin(), r.enabled(), r.groupsDigest(), r.createdAt(), r.createdBy(),
                    r.certsIssued(), r.mac(), r.name());
        }

        @Override
        public void deleteClient(String name) {
            update("DELETE FROM clients WHERE name = ?", name);
        }

        @Override
        public List<GroupRow> groups() {
            return many("SELECT name, description, created_at, created_by, mac FROM tresor_groups ORDER BY name",
                    rs -> new GroupRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getBytes(5)));
        }

        @Override
        public void insertGroup(GroupRow r) {
            update("INSERT INTO tresor_groups (name, description, created_at, created_by, mac) VALUES (?, ?, ?, ?, ?)",
                    r.name(), r.description(), r.createdAt(), r.createdBy(), r.mac());
        }

        @Override
        public void deleteGroup(String name) {
            update("DELETE FROM tresor_groups WHERE name = ?", name);
        }

        @Override
        public List<MembershipRow> memberships() {
            return many("SELECT group_name, client_name, role, mac FROM memberships ORDER BY client_name, group_name",
                    rs -> new MembershipRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBytes(4)));
        }

        @Override
        public void putMembership(MembershipRow r) {
            update("INSERT INTO memberships (group_name, client_name, role, mac) VALUES (?, ?, ?, ?) "
                    + "ON CONFLICT (group_name, client_name) DO UPDATE SET role = excluded.role, mac = excluded.mac",
                    r.group(), r.client(), r.role(), r.mac());
        }

        @Override
        public void deleteMembership(String group, String client) {
            update("DELETE FROM memberships WHERE group_name = ? AND client_name = ?", group, client);
        }

        // ---------------------------------------------------------------- secrets

        private static final String SECRET_COLUMNS =
                "s.name, s.groups, s.labels, s.latest_version, s.description, s.created_at, s.created_by, s.updated_at, "
                        + "s.deleted_at, s.destroyed, s.mac";

        @Override
        public Optional<SecretRow> secret(String name) {
            return one("SELECT " + SECRET_COLUMNS + " FROM secrets s WHERE s.name = ?", JdbcStore::secret, name);
        }

        @Override
        public Optional<SecretRow> lockSecret(String name) {
            return one("SELECT " + SECRET_COLUMNS + " FROM secrets s WHERE s.name = ?" + dialect.forUpdate(),
                    JdbcStore::secret, name);
        }

        @Override
        public List<SecretRow> secrets(String prefix, String after, int limit) {
            return many("SELECT " + SECRET_COLUMNS + " FROM secrets s WHERE s.name > ? AND s.name >= ? AND s.name < ? "
                            + "ORDER BY s.name LIMIT ?",
                    JdbcStore::secret, after == null ? "" : after, lower(prefix), upper(prefix), limit);
        }

        @Override
        public List<SecretRow> secretsGrantedTo(Collection<String> groups, String prefix, String after, int limit) {
            if (groups.isEmpty()) {
                return List.of();
            }
            String marks = String.join(", ", Collections.nCopies(groups.size(), "?"));
            List<Object> args = new ArrayList<>(groups);
            args.add(after == null ? "" : after);
            args.add(lower(prefix));
            args.add(upper(prefix));
            args.add(limit);
            return many("SELECT " + SECRET_COLUMNS + " FROM secrets s WHERE s.name IN ("
                            + "SELECT g.secret_name FROM grants g WHERE g.group_name IN (" + marks + ")) "
                            + "AND s.name > ? AND s.name >= ? AND s.name < ? ORDER BY s.name LIMIT ?",
                    JdbcStore::secret, args.toArray());
        }

        @Override
        public void insertSecret(SecretRow r) {
            update("INSERT INTO secrets (name, groups, labels, latest_version, description, created_at, created_by, "
                            + "updated_at, deleted_at, destroyed, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    r.name(), joinGroups(r.groups()), joinLabels(r.labels()), r.latestVersion(), r.description(),
                    r.createdAt(), r.createdBy(), r.updatedAt(), r.deletedAt(), r.destroyed(), r.mac());
        }

        @Override
        public void updateSecret(SecretRow r) {
            update("UPDATE secrets SET groups = ?, labels = ?, latest_version = ?, description = ?, created_at = ?, "
                            + "created_by = ?, updated_at = ?, deleted_at = ?, destroyed = ?, mac = ? WHERE name = ?",
                    joinGroups(r.groups()), joinLabels(r.labels()), r.latestVersion(), r.description(), r.createdAt(),
                    r.createdBy(), r.updatedAt(), r.deletedAt(), r.destroyed(), r.mac(), r.name());
        }

        @Override
        public List<SecretRow> secretsNamingGroup(String group) {
            String escaped = group.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
            List<SecretRow> candidates = many("SELECT " + SECRET_COLUMNS + " FROM secrets s WHERE ',' || s.groups || ',' "
                    + "LIKE ? ESCAPE '\\' ORDER BY s.name", JdbcStore::secret, "%," + escaped + ",%");
            return candidates.stream().filter(r -> r.groups().contains(group)).toList();
        }

        @Override
        public List<GrantRow> grantsOfGroup(String group) {
            return many("SELECT group_name, secret_name, mac FROM grants WHERE group_name = ? ORDER BY secret_name",
                    rs -> new GrantRow(rs.getString(1), rs.getString(2), rs.getBytes(3)), group);
        }

        @Override
        public List<GrantRow> grantsOfSecret(String secret) {
            return many("SELECT group_name, secret_name, mac FROM grants WHERE secret_name = ? ORDER BY group_name",
                    rs -> new GrantRow(rs.getString(1), rs.getString(2), rs.getBytes(3)), secret);
        }

        @Override
        public void putGrant(GrantRow r) {
            update("INSERT INTO grants (group_name, secret_name, mac) VALUES (?, ?, ?) "
                    + "ON CONFLICT (group_name, secret_name) DO UPDATE SET mac = excluded.mac", r.group(), r.secret(), r.mac());
        }

        @Override
        public void deleteGrant(String group, String secret) {
            update("DELETE FROM grants WHERE group_name = ? AND secret_name = ?", group, secret);
        }

        // ---------------------------------------------------------------- secret ledger

        @Override
        public Optional<SecretHeadRow> secretHead() {
            return one("SELECT epoch, bucket_sum, mac FROM secret_head WHERE id = 1",
                    rs -> new SecretHeadRow(rs.getLong(1), rs.getBytes(2), rs.getBytes(3)));
        }

        @Override
        public Optional<SecretHeadRow> lockSecretHead() {
            return one("SELECT epoch, bucket_sum, mac FROM secret_head WHERE id = 1" + dialect.forUpdate(),
                    rs -> new SecretHeadRow(rs.getLong(1), rs.getBytes(2), rs.getBytes(3)));
        }

        @Override
        public void putSecretHead(SecretHeadRow row) {
            update("INSERT INTO secret_head (id, epoch, bucket_sum, mac) VALUES (1, ?, ?, ?) "
                    + "ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, bucket_sum = excluded.bucket_sum, mac = excluded.mac",
                    row.epoch(), row.bucketSum(), row.mac());
        }

        // ---------------------------------------------------------------- store head

        private static final String STORE_HEAD_COLUMNS = "acl_epoch, acl_mac, secret_epoch, secret_mac, mac, keyring_version";

        @Override
        public Optional<StoreHeadRow> storeHead() {
            return one("SELECT " + STORE_HEAD_COLUMNS + " FROM store_head WHERE id = 1", JdbcStore::storeHead);
        }

        @Override
        public Optional<StoreHeadRow> lockStoreHead() {
            return one("SELECT " + STORE_HEAD_COLUMNS + " FROM store_head WHERE id = 1" + dialect.forUpdate(),
                    JdbcStore::storeHead);
        }

        @Override
        public void putStoreHead(StoreHeadRow row) {
            update("INSERT INTO store_head (id, acl_epoch, acl_mac, secret_epoch, secret_mac, mac, keyring_version) "
                    + "VALUES (1, ?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (id) DO UPDATE SET acl_epoch = excluded.acl_epoch, acl_mac = excluded.acl_mac, "
                    + "secret_epoch = excluded.secret_epoch, secret_mac = excluded.secret_mac, mac = excluded.mac, "
                    + "keyring_version = excluded.keyring_version",
                    row.aclEpoch(), row.aclMac(), row.secretEpoch(), row.secretMac(), row.mac(), row.keyringVersion());
        }

        // ---------------------------------------------------------------- audit checkpoints

        @Override
        public Optional<String> auditCheckpoint(String log) {
            return one("SELECT record FROM audit_checkpoints WHERE log = ?", rs -> rs.getString(1), log);
        }

        @Override
        public void putAuditCheckpoint(String log, String record) {
            update("INSERT INTO audit_checkpoints (log, record) VALUES (?, ?) "
                    + "ON CONFLICT (log) DO UPDATE SET record = excluded.record", log, record);
        }

        @Override
        public Optional<SecretBucketRow> secretBucket(int bucket) {
            return one("SELECT bucket, epoch, entries, mac FROM secret_buckets WHERE bucket = ?",
                    rs -> new SecretBucketRow(rs.getInt(1), rs.getLong(2), rs.getString(3), rs.getBytes(4)), bucket);
        }

        @Override
        public List<SecretBucketRow> secretBucketSeals() {
            return many("SELECT bucket, epoch, mac FROM secret_buckets ORDER BY bucket",
                    rs -> new SecretBucketRow(rs.getInt(1), rs.getLong(2), null, rs.getBytes(3)));
        }

        @Override
        public void putSecretBucket(SecretBucketRow row) {
            update("INSERT INTO secret_buckets (bucket, epoch, entries, mac) VALUES (?, ?, ?, ?) "
                    + "ON CONFLICT (bucket) DO UPDATE SET epoch = excluded.epoch, entries = excluded.entries, mac = excluded.mac",
                    row.bucket(), row.epoch(), row.entries(), row.mac());
        }

        @Override
        public List<Rows.SecretJournalRow> secretJournal(long after, long upTo) {
            return many("SELECT epoch, bucket, mac FROM secret_journal WHERE epoch > ? AND epoch <= ? ORDER BY epoch",
                    rs -> new Rows.SecretJournalRow(rs.getLong(1), rs.getInt(2), rs.getBytes(3)), after, upTo);
        }

        @Override
        public void putSecretJournal(Rows.SecretJournalRow row) {
            update("INSERT INTO secret_journal (epoch, bucket, mac) VALUES (?, ?, ?) "
                    + "ON CONFLICT (epoch) DO UPDATE SET bucket = excluded.bucket, mac = excluded.mac",
                    row.epoch(), row.bucket(), row.mac());
        }

        @Override
        public void pruneSecretJournal(long upTo) {
            update("DELETE FROM secret_journal WHERE epoch <= ?", upTo);
        }

        // ---------------------------------------------------------------- versions

        private static final String VERSION_COLUMNS =
                "secret_name, version, created_at, created_by, expires_at, metadata, kek_id, wrapped_key, ciphertext, mac";

        @Override
        public Optional<VersionRow> version(String secret, int version) {
            return one("SELECT " + VERSION_COLUMNS + " FROM secret_versions WHERE secret_name = ? AND version = ?",
                    JdbcStore::version, secret, version);
        }

        @Override
        public List<VersionRow> versions(String secret) {
            return many("SELECT " + VERSION_COLUMNS + " FROM secret_versions WHERE secret_name = ? ORDER BY version",
                    JdbcStore::version, secret);
        }

        @Override
        public void insertVersion(VersionRow r) {
            update("INSERT INTO secret_versions (" + VERSION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    r.secret(), r.version(), r.createdAt(), r.createdBy(), r.expiresAt(), r.metadata(), r.kekId(),
                    r.wrappedKey(), r.ciphertext(), r.mac());
        }

        @Override
        public void updateVersion(VersionRow r) {
            update("UPDATE secret_versions SET kek_id = ?, wrapped_key = ?, ciphertext = ?, mac = ? "
                    + "WHERE secret_name = ? AND version = ?",
                    r.kekId(), r.wrappedKey(), r.ciphertext(), r.mac(), r.secret(), r.version());
        }

        // ---------------------------------------------------------------- workload identity

        private static final String TOKEN_COLUMNS =
                "id, secret_hash, client, identity, uses_left, expires_at, created_at, created_by, mac";
        private static final String CERT_COLUMNS =
                "serial, client, identity, issuer, not_after, issued_at, revoked_at, revoked_by";

        private static JoinTokenRow joinTokenRow(ResultSet rs) throws SQLException {
            return new JoinTokenRow(rs.getString(1), rs.getBytes(2), rs.getString(3), rs.getString(4), rs.getLong(5),
                    rs.getLong(6), rs.getLong(7), rs.getString(8), rs.getBytes(9));
        }

        private static IssuedCertRow issuedCertRow(ResultSet rs) throws SQLException {
            long revokedAt = rs.getLong(7);
            Long revoked = rs.wasNull() ? null : revokedAt;
            return new IssuedCertRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5),
                    rs.getLong(6), revoked, rs.getString(8));
        }

        @Override
        public Optional<JoinTokenRow> joinToken(String id) {
            return one("SELECT " + TOKEN_COLUMNS + " FROM join_tokens WHERE id = ?", Session::joinTokenRow, id);
        }

        @Override
        public void insertJoinToken(JoinTokenRow r) {
            update("INSERT INTO join_tokens (" + TOKEN_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", r.id(),
                    r.secretHash(), r.client(), r.identity(), r.usesLeft(), r.expiresAt(), r.createdAt(), r.createdBy(),
                    r.mac());
        }

        @Override
        public void updateJoinToken(JoinTokenRow r) {
            update("UPDATE join_tokens SET secret_hash = ?, client = ?, identity = ?, uses_left = ?, expires_at = ?, "
                    + "created_at = ?, created_by = ?, mac = ? WHERE id = ?", r.secretHash(), r.client(), r.identity(),
                    r.usesLeft(), r.expiresAt(), r.createdAt(), r.createdBy(), r.mac(), r.id());
        }

        @Override
        public void deleteJoinToken(String id) {
            update("DELETE FROM join_tokens WHERE id = ?", id);
        }

        @Override
        public int deleteExpiredJoinTokens(long nowMillis) {
            return update("DELETE FROM join_tokens WHERE expires_at < ?", nowMillis);
        }

        @Override
        public Optional<IssuedCertRow> issuedCert(String serial) {
            return one("SELECT " + CERT_COLUMNS + " FROM issued_certs WHERE serial = ?", Session::issuedCertRow, serial);
        }

        @Override
        public List<IssuedCertRow> issuedCertsOf(String identity, long nowMillis) {
            return many("SELECT " + CERT_COLUMNS + " FROM issued_certs WHERE identity = ? AND not_after > ? ORDER BY issued_at",
                    Session::issuedCertRow, identity, nowMillis);
        }

        @Override
        public List<IssuedCertRow> issuedCerts(String client, long nowMillis, boolean includeExpired, int limit) {
            List<Object> args = new ArrayList<>();
            StringBuilder where = new StringBuilder(" WHERE 1 = 1");
            if (client != null) {
                where.append(" AND client = ?");
                args.add(client);
            }
            if (!includeExpired) {
                where.append(" AND not_after > ?");
                args.add(nowMillis);
            }
            args.add(limit);
            return many("SELECT " + CERT_COLUMNS + " FROM issued_certs" + where + " ORDER BY issued_at DESC, serial LIMIT ?",
                    Session::issuedCertRow, args.toArray());
        }

        @Override
        public List<IssuedCertRow> revokedCerts(long nowMillis) {
            return many("SELECT " + CERT_COLUMNS + " FROM issued_certs WHERE revoked_at IS NOT NULL AND not_after > ? "
                    + "ORDER BY serial", Session::issuedCertRow, nowMillis);
        }

        @Override
        public IssuedCertExpiry issuedCertExpiry(long nowMillis, long soonMillis) {
            return many("SELECT COUNT(*), COALESCE(SUM(CASE WHEN not_after <= ? THEN 1 ELSE 0 END), 0), "
                            + "COALESCE(MIN(not_after), 0) FROM issued_certs WHERE revoked_at IS NULL AND not_after > ?",
                    rs -> new IssuedCertExpiry(rs.getLong(1), rs.getLong(2), rs.getLong(3)), soonMillis, nowMillis).getFirst();
        }

        @Override
        public void insertIssuedCert(IssuedCertRow r) {
            update("INSERT INTO issued_certs (" + CERT_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)", r.serial(), r.client(),
                    r.identity(), r.issuer(), r.notAfter(), r.issuedAt(), r.revokedAt(), r.revokedBy());
        }

        @Override
        public boolean revokeCert(String serial, long atMillis, String by) {
            if (issuedCert(serial).isEmpty()) {
                return false;
            }
            update("UPDATE issued_certs SET revoked_at = ?, revoked_by = ? WHERE serial = ? AND revoked_at IS NULL",
                    atMillis, by, serial);
            return true;
        }

        // ---------------------------------------------------------------- change feed

        private static final String CHANGE_COLUMNS = "seq, at_millis, kind, secret_name, version, label, scope_group, scope_client";

        @Override
        public List<ChangeRow> changesAfter(long afterSeq, int limit) {
            return many("SELECT " + CHANGE_COLUMNS + " FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                    rs -> new ChangeRow(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getObject(5) == null ? null : (Integer) rs.getInt(5), rs.getString(6), rs.getString(7),
                            rs.getString(8)), afterSeq, limit);
        }

        @Override
        public ChangeBounds changeBounds() {
            // Two scalar subqueries, not MIN and MAX in one SELECT: SQLite answers a lone MIN or MAX
            // from the primary key's b-tree, but both in one query scan the whole table, which
            // every write that records a change ran (a bulk load slowed from ~510 to ~290 puts/s
            // between 20k and 40k rows; EXPLAIN QUERY PLAN: SCAN changes vs SEARCH changes).
            return one("SELECT COALESCE((SELECT MIN(seq) FROM changes), 0), COALESCE((SELECT MAX(seq) FROM changes), 0)",
                    rs -> new ChangeBounds(rs.getLong(1), rs.getLong(2))).orElseThrow();
        }

        @Override
        public List<VersionRow> versionsExpiring(long fromMillis, long toMillis, int limit) {
            return many("SELECT " + VERSION_COLUMNS + " FROM secret_versions WHERE expires_at IS NOT NULL AND expires_at > ? "
                    + "AND expires_at <= ? ORDER BY expires_at LIMIT ?", JdbcStore::version, fromMillis, toMillis, limit);
        }

        @Override
        public boolean expiryRecorded(String secret, int version) {
            return one("SELECT 1 FROM changes WHERE kind = 'expired' AND secret_name = ? AND version = ?", rs -> 1,
                    secret, version).isPresent();
        }

        @Override
        public void appendChange(ChangeRow row) {
            pendingChanges.add(row);
        }

        @Override
        public int pruneChanges(long beforeMillis) {
            return update("DELETE FROM changes WHERE at_millis < ? AND seq < (SELECT MAX(seq) FROM changes)", beforeMillis);
        }

        /**
         * Before commit: numbers this transaction's changes after the rows committed before it.
         * The store head lock (held until commit; every transaction that records a change moves a
         * head) makes MAX + 1 safe on several nodes: the next writer reads MAX only after this
         * commit. PostgreSQL delivers the NOTIFY at commit, to every node's listener.
         */
        boolean flushChanges() {
            if (pendingChanges.isEmpty()) {
                return false;
            }
            lockStoreHead();
            long next = changeBounds().newest() + 1;
            for (ChangeRow row : pendingChanges) {
                ChangeRow r = row.withSeq(next++);
                update("INSERT INTO changes (" + CHANGE_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)", r.seq(), r.at(), r.kind(),
                        r.secret(), r.version(), r.label(), r.scopeGroup(), r.scopeClient());
            }
            pendingChanges.clear();
            if (dialect == Dialect.POSTGRESQL) {
                many("SELECT pg_notify('tresor_changes', '')", rs -> 1);
            }
            return true;
        }

        // ---------------------------------------------------------------- plumbing

        private <T> Optional<T> one(String sql, RowMapper<T> mapper, Object... args) {
            List<T> rows = many(sql, mapper, args);
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
        }

        private <T> List<T> many(String sql, RowMapper<T> mapper, Object... args) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                bind(ps, args);
                try (ResultSet rs = ps.executeQuery()) {
                    List<T> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(mapper.map(rs));
                    }
                    return out;
                }
            } catch (SQLException e) {
                throw translate("query", e);
            }
        }

        private int update(String sql, Object... args) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                bind(ps, args);
                return ps.executeUpdate();
            } catch (SQLException e) {
                throw translate("update", e);
            }
        }

        private void bind(PreparedStatement ps, Object[] args) throws SQLException {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                int index = i + 1;
                switch (a) {
                    case null -> ps.setNull(index, Types.NULL);
                    case String s -> ps.setString(index, s);
                    case Integer n -> ps.setInt(index, n);
                    case Long n -> ps.setLong(index, n);
                    case Boolean b -> ps.setBoolean(index, b);
                    case byte[] bytes -> ps.setBytes(index, bytes);
                    default -> throw new IllegalArgumentException("unsupported parameter type " + a.getClass());
                }
            }
        }
    }

    @FunctionalInterface
    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** The smallest string with the prefix (the prefix itself). */
    private static String lower(String prefix) {
        return prefix == null ? "" : prefix;
    }

    /** A string greater than every name with the prefix; names use only ASCII below '~'. */
    private static String upper(String prefix) {
        return (prefix == null ? "" : prefix) + "\u007f";
    }

    private static AclHeadRow aclHead(ResultSet rs) throws SQLException {
        return new AclHeadRow(rs.getLong(1), rs.getString(2), rs.getBytes(3));
    }

    private static ClientRow client(ResultSet rs) throws SQLException {
        return new ClientRow(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4), rs.getBytes(5),
                rs.getLong(6), rs.getString(7), rs.getLong(8), rs.getBytes(9));
    }

    private static StoreHeadRow storeHead(ResultSet rs) throws SQLException {
        long keyringVersion = rs.getLong(6);
        Long bound = rs.wasNull() ? null : keyringVersion; // before the other columns: wasNull is about the last read
        return new StoreHeadRow(rs.getLong(1), rs.getBytes(2), rs.getLong(3), rs.getBytes(4), rs.getBytes(5), bound);
    }

    private static SecretRow secret(ResultSet rs) throws SQLException {
        long deleted = rs.getLong(9);
        Long deletedAt = rs.wasNull() ? null : deleted;
        return new SecretRow(rs.getString(1), splitGroups(rs.getString(2)), splitLabels(rs.getString(3)), rs.getInt(4),
                rs.getString(5), rs.getLong(6), rs.getString(7), rs.getLong(8), deletedAt, rs.getBoolean(10),
                rs.getBytes(11));
    }

    private static VersionRow version(ResultSet rs) throws SQLException {
        long expires = rs.getLong(5);
        Long expiresAt = rs.wasNull() ? null : expires;
        return new VersionRow(rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getString(4), expiresAt, rs.getString(6),
                rs.getString(7), rs.getBytes(8), rs.getBytes(9), rs.getBytes(10));
    }

    // Group and label names are restricted to [A-Za-z0-9._-], so ',' and '=' are safe separators.
    // A tampered column that breaks this shape parses to something the row MAC then rejects.

    static String joinGroups(List<String> groups) {
        return String.join(",", groups);
    }

    static List<String> splitGroups(String text) {
        if (text == null || text.isEmpty()) {
            return List.of();
        }
        return List.copyOf(Arrays.asList(text.split(",", -1)));
    }

    static String joinLabels(SortedMap<String, Integer> labels) {
        StringBuilder out = new StringBuilder();
        labels.forEach((label, version) -> {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(label).append('=').append(version);
        });
        return out.toString();
    }

    static SortedMap<String, Integer> splitLabels(String text) {
        SortedMap<String, Integer> labels = new TreeMap<>();
        if (text == null || text.isEmpty()) {
            return labels;
        }
        for (String pair : text.split(",", -1)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                labels.put(pair, -1);
                continue;
            }
            try {
                labels.put(pair.substring(0, eq), Integer.parseInt(pair.substring(eq + 1)));
            } catch (NumberFormatException e) {
                labels.put(pair.substring(0, eq), -1);
            }
        }
        return labels;
    }
}
