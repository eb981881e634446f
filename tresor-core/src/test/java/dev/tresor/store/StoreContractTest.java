package dev.tresor.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.SecretMeta;
import dev.tresor.model.VersionMeta;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.GrantRow;
import dev.tresor.store.Rows.GroupRow;
import dev.tresor.store.Rows.IssuedCertRow;
import dev.tresor.store.Rows.JoinTokenRow;
import dev.tresor.store.Rows.KeyRow;
import dev.tresor.store.Rows.MembershipRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link Store} seam itself: one contract, run against SQLite and PostgreSQL. Each test gets a
 * fresh database. Rows here carry arbitrary MAC bytes: the store neither computes nor checks MACs.
 */
class StoreContractTest {

    @Nested
    class SQLite extends Contract {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Contract {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Contract {

        private static final SecureRandom RANDOM = new SecureRandom();
        /** Far beyond 2^31 and any int: catches a long squeezed into an INTEGER column. */
        private static final long T = 4_102_444_800_123L;

        private final TestDatabase.Kind kind;
        private final dev.tresor.access.KekSource keks;
        private TestDatabase db;
        private Store store;

        @TempDir
        Path tmp;

        Contract(TestDatabase.Kind kind) {
            this(kind, dev.tresor.access.KekSource.LOCAL);
        }

        /** The whole contract with the KEK of the tests that open a Tresor from {@code keks} (another key provider). */
        Contract(TestDatabase.Kind kind, dev.tresor.access.KekSource keks) {
            this.kind = kind;
            this.keks = keks;
        }

        @BeforeEach
        void open() {
            db = kind.create();
            store = db.open();
        }

        @AfterEach
        void close() {
            store.close();
            db.close();
        }

        // ------------------------------------------------------------------ rows

        static byte[] random(int n) {
            byte[] b = new byte[n];
            RANDOM.nextBytes(b);
            return b;
        }

        /** Bytes that trip up text handling: NUL, 0xFF, high bit, CR/LF, a quote. */
        static byte[] awkward() {
            return new byte[] {0, (byte) 0xff, (byte) 0x80, 0x7f, '\r', '\n', '\'', 0, 1, 2, (byte) 0xfe};
        }

        static ClientRow client(String name, boolean admin, boolean enabled, String createdBy) {
            return new ClientRow(name, "spiffe://tresor.local/ns/t/sa/" + name, admin, enabled, random(32), T + 1,
                    createdBy, 0, random(32));
        }

        static SortedMap<String, Integer> labels(Object... kv) {
            SortedMap<String, Integer> m = new TreeMap<>();
            for (int i = 0; i < kv.length; i += 2) {
                m.put((String) kv[i], (Integer) kv[i + 1]);
            }
            return m;
        }

        static SecretRow secret(String name, List<String> groups) {
            return new SecretRow(name, groups, labels("current", 1), 1, "about " + name, T, "root", T + 5, null,
                    false, random(32));
        }

        static VersionRow version(String secret, int v, Long expiresAt) {
            return new VersionRow(secret, v, T + v, "writer-" + v, expiresAt, "{\"k\":\"v" + v + "\"}", "local:42",
                    random(180), random(60), random(32));
        }

        java.util.Optional<?> opt(java.util.function.Function<StoreReader, java.util.Optional<?>> f) {
            return store.read(f);
        }

        List<?> list(java.util.function.Function<StoreReader, List<?>> f) {
            return store.read(f);
        }

        boolean bool(java.util.function.Function<StoreReader, Boolean> f) {
            return store.read(f);
        }

        <T> void assertSame(T actual, T expected) {
            assertThat(actual).usingRecursiveComparison().isEqualTo(expected);
        }

        // ------------------------------------------------------------------ tests

        @Test
        void kindAndPing() {
            assertThat(store.kind()).isEqualTo(kind == TestDatabase.Kind.SQLITE ? "sqlite" : "postgresql");
            assertThat(store.ping()).isTrue();
        }

        @Test
        void recursiveComparisonReallyComparesBytes() {
            // Guards the tests below: a comparison that ignored array contents would prove nothing.
            ClientRow a = client("a", true, true, null);
            ClientRow b = new ClientRow(a.name(), a.identity(), a.admin(), a.enabled(), a.groupsDigest().clone(),
                    a.createdAt(), a.createdBy(), a.certsIssued(), a.mac().clone());
            assertSame(b, a);
            b.mac()[0] ^= 1;
            assertThatThrownBy(() -> assertSame(b, a)).isInstanceOf(AssertionError.class);
        }

        @Test
        void keysRoundTrip() {
            KeyRow key = new KeyRow("row-mac", "local:123", awkward(), T);
            store.write(w -> {
                w.insertKey(key);
                return null;
            });
            assertSame(store.read(r -> r.key("row-mac")).orElseThrow(), key);
            assertThat(opt(r -> r.key("other"))).isEmpty();
            assertThatThrownBy(() -> store.write(w -> {
                w.insertKey(new KeyRow("row-mac", "local:9", random(10), T));
                return null;
            })).isInstanceOf(StoreConflictException.class);
            assertSame(store.read(r -> r.key("row-mac")).orElseThrow(), key);
        }

        @Test
        void aclHeadRoundTripAndUpsert() {
            assertThat(opt(StoreReader::aclHead)).isEmpty();
            AclHeadRow first = new AclHeadRow(1, "root:AAAA", awkward());
            store.write(w -> {
                assertThat(w.lockAclHead()).isEmpty();
                w.putAclHead(first);
                return null;
            });
            assertSame(store.read(StoreReader::aclHead).orElseThrow(), first);
            AclHeadRow second = new AclHeadRow(T, "", random(32));
            store.write(w -> {
                assertSame(w.lockAclHead().orElseThrow(), first);
                w.putAclHead(second);
                return null;
            });
            assertSame(store.read(StoreReader::aclHead).orElseThrow(), second);
            assertThat(db.rows("acl_head", null)).hasSize(1);
        }

        @Test
        void joinTokensRoundTripUpdateAndExpire() {
            JoinTokenRow token = new JoinTokenRow("0123456789abcdef01234567", awkward(), "alice",
                    "spiffe://tresor.local/ns/a/sa/alice", 2, T + 1000, T, "zed", random(32));
            JoinTokenRow old = new JoinTokenRow("ffffffffffffffffffffffff", random(32), "bob", "bob", 1, T - 1, T - 10,
                    "zed", random(32));
            store.write(w -> {
                w.insertJoinToken(token);
                w.insertJoinToken(old);
                return null;
            });
            assertSame(store.read(r -> r.joinToken(token.id())).orElseThrow(), token);
            assertThat(opt(r -> r.joinToken("000000000000000000000000"))).isEmpty();
            assertThatThrownBy(() -> store.write(w -> {
                w.insertJoinToken(token);
                return null;
            })).isInstanceOf(StoreConflictException.class);
            JoinTokenRow used = new JoinTokenRow(token.id(), token.secretHash(), token.client(), token.identity(), 1,
                    token.expiresAt(), token.createdAt(), token.createdBy(), random(32));
            int expired = store.write(w -> {
                w.updateJoinToken(used);
                return w.deleteExpiredJoinTokens(T);
            });
            assertThat(expired).isEqualTo(1);
            assertSame(store.read(r -> r.joinToken(token.id())).orElseThrow(), used);
            assertThat(opt(r -> r.joinToken(old.id()))).isEmpty();
            store.write(w -> {
                w.deleteJoinToken(token.id());
                return null;
            });
            assertThat(opt(r -> r.joinToken(token.id()))).isEmpty();
        }

        @Test
        void issuedCertificatesAreRevokedOnceAndListedUntilTheyExpire() {
            String identity = "spiffe://tresor.local/ns/a/sa/db";
            IssuedCertRow live = new IssuedCertRow("3fa9", "db", identity, "CN=Tresor CA", T + 1000, T, null, null);
            IssuedCertRow gone = new IssuedCertRow("77", "db", identity, "CN=Tresor CA", T - 1, T - 100, null, null);
            IssuedCertRow other = new IssuedCertRow("1", "web", "web", "CN=Tresor CA", T + 1000, T, null, null);
            store.write(w -> {
                w.insertIssuedCert(live);
                w.insertIssuedCert(gone);
                w.insertIssuedCert(other);
                return null;
            });
            assertSame(store.read(r -> r.issuedCert("3fa9")).orElseThrow(), live);
            assertSame(store.read(r -> r.issuedCertsOf(identity, T)), List.of(live));
            assertThat(store.<List<IssuedCertRow>>read(r -> r.revokedCerts(T))).isEmpty();
            // For the expiry metrics: live and other are valid at T, both expire by T + 1000, none by T + 999.
            assertThat(store.<StoreReader.IssuedCertExpiry>read(r -> r.issuedCertExpiry(T, T + 1000)))
                    .isEqualTo(new StoreReader.IssuedCertExpiry(2, 2, T + 1000));
            assertThat(store.<StoreReader.IssuedCertExpiry>read(r -> r.issuedCertExpiry(T, T + 999)))
                    .isEqualTo(new StoreReader.IssuedCertExpiry(2, 0, T + 1000));
            assertThat(store.<StoreReader.IssuedCertExpiry>read(r -> r.issuedCertExpiry(T + 1000, T + 2000)))
                    .isEqualTo(new StoreReader.IssuedCertExpiry(0, 0, 0));
            boolean[] known = store.write(w -> new boolean[] {w.revokeCert("3fa9", T + 5, "zed"), w.revokeCert("77", T, "zed"),
                    w.revokeCert("nope", T, "zed")});
            assertThat(known).containsExactly(true, true, false);
            // Revoking again keeps the first revocation.
            store.write(w -> w.revokeCert("3fa9", T + 50, "other"));
            IssuedCertRow revoked = new IssuedCertRow("3fa9", "db", identity, "CN=Tresor CA", T + 1000, T, T + 5, "zed");
            assertSame(store.read(r -> r.issuedCert("3fa9")).orElseThrow(), revoked);
            // The expired one is not listed any more.
            assertSame(store.read(r -> r.revokedCerts(T)), List.of(revoked));
            assertThat(store.<List<IssuedCertRow>>read(r -> r.revokedCerts(T + 1000))).isEmpty();
            // A revoked certificate no longer counts as valid.
            assertThat(store.<StoreReader.IssuedCertExpiry>read(r -> r.issuedCertExpiry(T, T + 1000)))
                    .isEqualTo(new StoreReader.IssuedCertExpiry(1, 1, T + 1000));
        }

        @Test
        void clientsRoundTripUpdateDelete() {
            ClientRow admin = client("zed", true, true, null);
            ClientRow plain = client("alice", false, false, "zed");
            assertThat(bool(StoreReader::anyClient)).isFalse();
            store.write(w -> {
                w.insertClient(admin);
                w.insertClient(plain);
                return null;
            });
            assertThat(bool(StoreReader::anyClient)).isTrue();
            assertSame(store.read(r -> r.client("zed")).orElseThrow(), admin);
            assertSame(store.read(r -> r.client("alice")).orElseThrow(), plain);
            assertSame(store.read(r -> r.clientByIdentity(plain.identity())).orElseThrow(), plain);
            assertThat(opt(r -> r.client("nobody"))).isEmpty();
            assertThat(opt(r -> r.clientByIdentity("spiffe://tresor.local/nobody"))).isEmpty();
            assertSame(store.read(StoreReader::clients), List.of(plain, admin));

            ClientRow changed = new ClientRow("alice", "CN=alice-2", true, true, awkward(), T + 99, null, 3, random(32));
            store.write(w -> {
                w.updateClient(changed);
                return null;
            });
            assertSame(store.read(r -> r.client("alice")).orElseThrow(), changed);
            assertThat(opt(r -> r.clientByIdentity(plain.identity()))).isEmpty();
            assertSame(store.read(r -> r.client("zed")).orElseThrow(), admin);

            store.write(w -> {
                w.deleteClient("alice");
                return null;
            });
            assertThat(opt(r -> r.client("alice"))).isEmpty();
            assertSame(store.read(StoreReader::clients), List.of(admin));
        }

        @Test
        void groupsRoundTripDelete() {
            GroupRow g1 = new GroupRow("g1", null, T, null, random(32));
            GroupRow g0 = new GroupRow("g0", "Beschreibung: Zugänge für die Datenbank — ✓ 🔐 'quoted'", T + 1, "root",
                    awkward());
            store.write(w -> {
                w.insertGroup(g1);
                w.insertGroup(g0);
                return null;
            });
            assertSame(store.read(StoreReader::groups), List.of(g0, g1));
            store.write(w -> {
                w.deleteGroup("g1");
                return null;
            });
            assertSame(store.read(StoreReader::groups), List.of(g0));
        }

        @Test
        void membershipsRoundTripUpsertDelete() {
            MembershipRow bobG2 = new MembershipRow("g2", "bob", "write", random(32));
            MembershipRow aliceG2 = new MembershipRow("g2", "alice", "read", random(32));
            MembershipRow aliceG1 = new MembershipRow("g1", "alice", "read", awkward());
            store.write(w -> {
                w.putMembership(bobG2);
                w.putMembership(aliceG2);
                w.putMembership(aliceG1);
                return null;
            });
            assertSame(store.read(r -> r.membershipsOfClient("alice")), List.of(aliceG1, aliceG2));
            assertSame(store.read(r -> r.membershipsOfGroup("g2")), List.of(aliceG2, bobG2));
            assertSame(store.read(StoreReader::memberships), List.of(aliceG1, aliceG2, bobG2));
            assertThat(list(r -> r.membershipsOfClient("nobody"))).isEmpty();

            MembershipRow aliceG2Write = new MembershipRow("g2", "alice", "write", random(32));
            store.write(w -> {
                w.putMembership(aliceG2Write);
                return null;
            });
            assertSame(store.read(r -> r.membershipsOfClient("alice")), List.of(aliceG1, aliceG2Write));

            store.write(w -> {
                w.deleteMembership("g1", "alice");
                return null;
            });
            assertSame(store.read(r -> r.membershipsOfClient("alice")), List.of(aliceG2Write));
            assertSame(store.read(r -> r.membershipsOfGroup("g2")), List.of(aliceG2Write, bobG2));
        }

        @Test
        void secretsRoundTripEveryShape() {
            SecretRow bare = new SecretRow("a", List.of(), new TreeMap<>(), 0, null, T, null, T, null, false, random(32));
            SecretRow full = new SecretRow("app/db/password", List.of("g-1", "g.2", "g_3"),
                    labels("current", 3, "pending", 4, "previous", 2), 4, "ü — ✓ 🔐 \"x\", y=z", T + 1, "root", T + 2,
                    T + 3, true, awkward());
            SecretRow one = new SecretRow("b", List.of("only"), labels("current", 1), Integer.MAX_VALUE, "", 0L, "",
                    Long.MAX_VALUE, 0L, false, random(32));
            store.write(w -> {
                w.insertSecret(full);
                w.insertSecret(bare);
                w.insertSecret(one);
                return null;
            });
            assertSame(store.read(r -> r.secret("a")).orElseThrow(), bare);
            assertSame(store.read(r -> r.secret("app/db/password")).orElseThrow(), full);
            assertSame(store.read(r -> r.secret("b")).orElseThrow(), one);
            assertThat(opt(r -> r.secret("c"))).isEmpty();
            store.write(w -> {
                assertSame(w.lockSecret("app/db/password").orElseThrow(), full);
                assertThat(w.lockSecret("missing")).isEmpty();
                return null;
            });

            SecretRow changed = new SecretRow("app/db/password", List.of("z"), labels("current", 5), 5, null, T + 10,
                    null, T + 11, null, false, random(32));
            store.write(w -> {
                w.updateSecret(changed);
                return null;
            });
            assertSame(store.read(r -> r.secret("app/db/password")).orElseThrow(), changed);
            assertSame(store.read(r -> r.secret("a")).orElseThrow(), bare);
        }

        @Test
        void grantsRoundTripDelete() {
            GrantRow g1a = new GrantRow("g1", "a", random(32));
            GrantRow g1b = new GrantRow("g1", "b/c", awkward());
            GrantRow g2a = new GrantRow("g2", "a", random(32));
            store.write(w -> {
                w.putGrant(g1b);
                w.putGrant(g2a);
                w.putGrant(g1a);
                return null;
            });
            assertSame(store.read(r -> r.grantsOfGroup("g1")), List.of(g1a, g1b));
            assertSame(store.read(r -> r.grantsOfSecret("a")), List.of(g1a, g2a));
            GrantRow g1aAgain = new GrantRow("g1", "a", random(32));
            store.write(w -> {
                w.putGrant(g1aAgain);
                w.deleteGrant("g2", "a");
                return null;
            });
            assertSame(store.read(r -> r.grantsOfSecret("a")), List.of(g1aAgain));
            assertThat(list(r -> r.grantsOfGroup("g2"))).isEmpty();
        }

        @Test
        void versionsRoundTripOrderAndUpdate() {
            VersionRow v3 = version("s", 3, null);
            VersionRow v1 = version("s", 1, T + 1000);
            VersionRow v2 = new VersionRow("s", 2, T, null, 0L, "{}", null, awkward(), awkward(), awkward());
            VersionRow other = version("s2", 1, null);
            store.write(w -> {
                w.insertVersion(v3);
                w.insertVersion(other);
                w.insertVersion(v1);
                w.insertVersion(v2);
                return null;
            });
            assertSame(store.read(r -> r.version("s", 1)).orElseThrow(), v1);
            assertSame(store.read(r -> r.version("s", 2)).orElseThrow(), v2);
            assertThat(opt(r -> r.version("s", 4))).isEmpty();
            assertSame(store.read(r -> r.versions("s")), List.of(v1, v2, v3));

            // Destroy: key and ciphertext become null, the mac changes, nothing else moves.
            VersionRow destroyed = new VersionRow("s", 1, v1.createdAt(), v1.createdBy(), v1.expiresAt(), v1.metadata(),
                    v1.kekId(), null, null, random(32));
            // Re-wrap: new key and KEK id; fields outside the mutable set in the argument are ignored.
            byte[] newKey = random(200);
            VersionRow rewrapped = new VersionRow("s", 3, 1L, "someone-else", 7L, "{\"other\":\"x\"}", "local:43",
                    newKey, v3.ciphertext(), random(32));
            store.write(w -> {
                w.updateVersion(destroyed);
                w.updateVersion(rewrapped);
                return null;
            });
            assertSame(store.read(r -> r.version("s", 1)).orElseThrow(), destroyed);
            assertSame(store.read(r -> r.version("s", 3)).orElseThrow(), new VersionRow("s", 3, v3.createdAt(),
                    v3.createdBy(), v3.expiresAt(), v3.metadata(), "local:43", newKey, v3.ciphertext(), rewrapped.mac()));
            assertSame(store.read(r -> r.version("s2", 1)).orElseThrow(), other);
        }

        // ------------------------------------------------------------------ listing

        private static final List<String> NAMES = List.of("a", "a/b", "a-b", "a.b", "b", "A", "a/b/c", "ab", "a0",
                "Z/z", "b/a");

        private void insertNamed(List<String> names, List<String> groups) {
            store.write(w -> {
                for (String n : names) {
                    w.insertSecret(secret(n, groups));
                }
                return null;
            });
        }

        private List<String> names(List<SecretRow> rows) {
            return rows.stream().map(SecretRow::name).toList();
        }

        @Test
        void secretsAreOrderedBytewiseWithPrefixRangesAndPaging() {
            List<String> shuffled = new ArrayList<>(NAMES);
            Collections.shuffle(shuffled, new java.util.Random(7));
            insertNamed(shuffled, List.of("g"));
            // Byte order: 'A' < 'Z' < 'a'; '-' (2d) < '.' (2e) < '/' (2f) < '0' (30) < 'b'.
            List<String> all = List.of("A", "Z/z", "a", "a-b", "a.b", "a/b", "a/b/c", "a0", "ab", "b", "b/a");
            assertThat(names(store.read(r -> r.secrets(null, null, 100)))).isEqualTo(all);
            assertThat(names(store.read(r -> r.secrets("", null, 100)))).isEqualTo(all);
            assertThat(names(store.read(r -> r.secrets("a", null, 100))))
                    .isEqualTo(List.of("a", "a-b", "a.b", "a/b", "a/b/c", "a0", "ab"));
            assertThat(names(store.read(r -> r.secrets("a/", null, 100)))).isEqualTo(List.of("a/b", "a/b/c"));
            assertThat(names(store.read(r -> r.secrets("a/b", null, 100)))).isEqualTo(List.of("a/b", "a/b/c"));
            assertThat(names(store.read(r -> r.secrets("A", null, 100)))).isEqualTo(List.of("A"));
            assertThat(names(store.read(r -> r.secrets("b", null, 100)))).isEqualTo(List.of("b", "b/a"));
            assertThat(names(store.read(r -> r.secrets("c", null, 100)))).isEmpty();
            assertThat(names(store.read(r -> r.secrets("a", "a.b", 100)))).isEqualTo(List.of("a/b", "a/b/c", "a0", "ab"));
            assertThat(names(store.read(r -> r.secrets(null, "ab", 100)))).isEqualTo(List.of("b", "b/a"));
            assertThat(names(store.read(r -> r.secrets(null, "zzz", 100)))).isEmpty();

            // Paging with limit 3 and after = last name seen visits every name exactly once, in order.
            List<String> paged = new ArrayList<>();
            String after = null;
            while (true) {
                String from = after;
                List<String> page = names(store.read(r -> r.secrets(null, from, 3)));
                assertThat(page.size()).isLessThanOrEqualTo(3);
                if (page.isEmpty()) {
                    break;
                }
                paged.addAll(page);
                after = page.getLast();
            }
            assertThat(paged).isEqualTo(all);
            List<String> pagedPrefix = new ArrayList<>();
            after = null;
            while (true) {
                String from = after;
                List<String> page = names(store.read(r -> r.secrets("a", from, 2)));
                if (page.isEmpty()) {
                    break;
                }
                pagedPrefix.addAll(page);
                after = page.getLast();
            }
            assertThat(pagedPrefix).isEqualTo(List.of("a", "a-b", "a.b", "a/b", "a/b/c", "a0", "ab"));
        }

        @Test
        void secretsGrantedToReturnsEachSecretOnceInOrder() {
            insertNamed(List.of("b", "a/b", "a", "c", "a-b"), List.of("g1", "g2"));
            store.write(w -> {
                for (String n : List.of("b", "a/b", "a", "a-b")) {
                    w.putGrant(new GrantRow("g1", n, random(32)));
                }
                for (String n : List.of("a", "b", "a/b")) {
                    w.putGrant(new GrantRow("g2", n, random(32)));
                    w.putGrant(new GrantRow("g3", n, random(32)));
                }
                w.putGrant(new GrantRow("g9", "c", random(32)));
                return null;
            });
            assertThat(names(store.read(r -> r.secretsGrantedTo(List.of("g1", "g2", "g3"), null, null, 100))))
                    .isEqualTo(List.of("a", "a-b", "a/b", "b"));
            assertThat(names(store.read(r -> r.secretsGrantedTo(List.of("g2"), null, null, 100))))
                    .isEqualTo(List.of("a", "a/b", "b"));
            assertThat(names(store.read(r -> r.secretsGrantedTo(List.of("g1", "g2"), "a", null, 100))))
                    .isEqualTo(List.of("a", "a-b", "a/b"));
            assertThat(names(store.read(r -> r.secretsGrantedTo(List.of("g1", "g2", "g3"), null, "a", 2))))
                    .isEqualTo(List.of("a-b", "a/b"));
            assertThat(names(store.read(r -> r.secretsGrantedTo(List.of("g1", "g2", "g3"), null, null, 1))))
                    .isEqualTo(List.of("a"));
            assertThat(list(r -> r.secretsGrantedTo(List.of(), null, null, 100))).isEmpty();
            assertThat(list(r -> r.secretsGrantedTo(List.of("nobody"), null, null, 100))).isEmpty();
            // The returned rows are the full secret rows.
            assertSame(store.read(r -> r.secretsGrantedTo(List.of("g9"), null, null, 100)),
                    List.of(store.read(r -> r.secret("c")).orElseThrow()));
        }

        // ------------------------------------------------------------------ transactions

        @Test
        void writeRollsBackEverythingWhenTheLambdaThrows() {
            ClientRow keep = client("keep", true, true, null);
            SecretRow keepSecret = secret("keep", List.of("g"));
            store.write(w -> {
                w.insertClient(keep);
                w.insertSecret(keepSecret);
                w.putAclHead(new AclHeadRow(1, "keep:x", random(32)));
                return null;
            });
            AclHeadRow head = store.read(StoreReader::aclHead).orElseThrow();
            IllegalStateException boom = new IllegalStateException("boom");
            assertThatThrownBy(() -> store.write(w -> {
                w.insertKey(new KeyRow("k", "id", random(8), T));
                w.putAclHead(new AclHeadRow(2, "other", random(32)));
                w.insertClient(client("gone", false, true, null));
                w.updateClient(new ClientRow("keep", "CN=changed", false, false, random(32), 1, "x", 2, random(32)));
                w.insertGroup(new GroupRow("gone", null, T, null, random(32)));
                w.putMembership(new MembershipRow("gone", "keep", "read", random(32)));
                w.insertSecret(secret("gone", List.of("g")));
                w.updateSecret(secret("keep", List.of("changed")));
                w.putGrant(new GrantRow("g", "gone", random(32)));
                w.insertVersion(version("gone", 1, null));
                throw boom;
            })).isSameAs(boom);
            assertThat(opt(r -> r.key("k"))).isEmpty();
            assertSame(store.read(StoreReader::aclHead).orElseThrow(), head);
            assertSame(store.read(StoreReader::clients), List.of(keep));
            assertThat(list(StoreReader::groups)).isEmpty();
            assertThat(list(StoreReader::memberships)).isEmpty();
            assertSame(store.read(r -> r.secrets(null, null, 10)), List.of(keepSecret));
            assertThat(list(r -> r.grantsOfGroup("g"))).isEmpty();
            assertThat(list(r -> r.versions("gone"))).isEmpty();
            // ... and the store is still usable afterwards (no connection left mid-transaction).
            for (int i = 0; i < 20; i++) {
                int n = i;
                store.write(w -> {
                    w.insertGroup(new GroupRow("after" + n, null, T, null, random(32)));
                    return null;
                });
            }
            assertThat(list(StoreReader::groups)).hasSize(20);
        }

        @Test
        void anErrorThrownInsideWriteAlsoRollsBack() {
            AssertionError error = new AssertionError("error, not exception");
            assertThatThrownBy(() -> store.write(w -> {
                w.insertClient(client("gone", false, true, null));
                throw error;
            })).isSameAs(error);
            assertThat(list(StoreReader::clients)).isEmpty();
        }

        @Test
        void duplicateInsertsRaiseStoreConflictAndRollBack() {
            ClientRow alice = client("alice", false, true, null);
            store.write(w -> {
                w.insertClient(alice);
                w.insertGroup(new GroupRow("g", null, T, null, random(32)));
                w.insertSecret(secret("s", List.of("g")));
                w.insertVersion(version("s", 1, null));
                w.insertKey(new KeyRow("k", "id", random(8), T));
                return null;
            });
            List<java.util.function.Consumer<StoreWriter>> duplicates = List.of(
                    w -> w.insertClient(client("alice", true, true, null)),
                    // Another name but the same identity: identities are unique too.
                    w -> w.insertClient(new ClientRow("alice2", alice.identity(), false, true, random(32), T, null,
                            0, random(32))),
                    w -> w.insertGroup(new GroupRow("g", "again", T, null, random(32))),
                    w -> w.insertSecret(secret("s", List.of())),
                    w -> w.insertVersion(version("s", 1, null)),
                    w -> w.insertKey(new KeyRow("k", "id2", random(8), T)));
            for (var duplicate : duplicates) {
                assertThatThrownBy(() -> store.write(w -> {
                    w.insertClient(client("side-effect", false, true, null));
                    duplicate.accept(w);
                    return null;
                })).isInstanceOf(StoreConflictException.class);
                assertThat(opt(r -> r.client("side-effect"))).isEmpty();
            }
            assertSame(store.read(StoreReader::clients), List.of(alice));
            assertThat(opt(r -> r.client("alice2"))).isEmpty();
        }

        /**
         * {@link Store#read} promises "a consistent view": several statements in one read see the
         * database at one moment, even if a writer commits in between. Callers rely on it to check
         * rows against each other (the ACL head's registry against client rows, a secret row against
         * its versions); without it, a concurrent legitimate change looks like tampering.
         */
        @Test
        void aReadSeesOneConsistentViewWhileAWriterCommits() throws Exception {
            store.write(w -> {
                w.putAclHead(new AclHeadRow(1, "before", random(32)));
                w.insertClient(client("alice", false, true, "before"));
                return null;
            });
            CountDownLatch firstReadDone = new CountDownLatch(1);
            CountDownLatch writerCommitted = new CountDownLatch(1);
            ExecutorService writer = Executors.newSingleThreadExecutor();
            try {
                Future<?> write = writer.submit(() -> {
                    firstReadDone.await(30, TimeUnit.SECONDS);
                    store.write(w -> {
                        w.putAclHead(new AclHeadRow(2, "after", random(32)));
                        w.updateClient(client("alice", true, true, "after"));
                        return null;
                    });
                    writerCommitted.countDown();
                    return null;
                });
                List<String> seen = store.read(r -> {
                    String head = r.aclHead().orElseThrow().registry();
                    firstReadDone.countDown();
                    try {
                        // Bounded: a store that blocks writers during reads is consistent too.
                        writerCommitted.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return List.of(head, r.client("alice").orElseThrow().createdBy(),
                            r.aclHead().orElseThrow().registry());
                });
                write.get(60, TimeUnit.SECONDS);
                assertThat(seen).as("head, client row, head again, all read inside one Store.read")
                        .isEqualTo(List.of("before", "before", "before"));
                String now = store.read(r -> r.aclHead().orElseThrow().registry());
                assertThat(now).isEqualTo("after");
            } finally {
                writer.shutdownNow();
            }
        }

        @Test
        void aCommittedWriteIsVisibleToANewStoreAndSurvivesReopen() {
            ClientRow alice = client("alice", false, true, null);
            VersionRow v = version("s", 1, null);
            store.write(w -> {
                w.insertClient(alice);
                w.insertSecret(secret("s", List.of("g")));
                w.insertVersion(v);
                return null;
            });
            // A second store (another node) sees it at once ...
            try (Store other = db.open()) {
                assertSame(other.read(r -> r.client("alice")).orElseThrow(), alice);
            }
            // ... and it survives closing every connection and reopening.
            store.close();
            store = db.open();
            assertSame(store.read(r -> r.client("alice")).orElseThrow(), alice);
            assertSame(store.read(r -> r.version("s", 1)).orElseThrow(), v);
            // Re-opening also re-runs the migrations, which must be a no-op on a migrated schema.
            try (Store again = db.open()) {
                assertThat(again.<java.util.Optional<SecretRow>>read(r -> r.secret("s"))).isPresent();
            }
        }

        // ------------------------------------------------------------------ concurrency

        private static <T> List<T> runAll(int threads, Callable<T> task) throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<T>> futures = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    futures.add(pool.submit(() -> {
                        start.await();
                        return task.call();
                    }));
                }
                start.countDown();
                List<T> out = new ArrayList<>();
                for (Future<T> f : futures) {
                    out.add(f.get(120, TimeUnit.SECONDS));
                }
                return out;
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void concurrentRawWritersAllLand() throws Exception {
            java.util.concurrent.atomic.AtomicInteger thread = new java.util.concurrent.atomic.AtomicInteger();
            runAll(8, () -> {
                int t = thread.getAndIncrement();
                for (int i = 0; i < 50; i++) {
                    String name = "t" + t + "/s" + i;
                    store.write(w -> {
                        w.insertSecret(secret(name, List.of("g" + t)));
                        w.insertVersion(version(name, 1, null));
                        w.putGrant(new GrantRow("g" + t, name, random(32)));
                        return null;
                    });
                }
                return null;
            });
            assertThat(list(r -> r.secrets(null, null, 1000))).hasSize(400);
            for (int t = 0; t < 8; t++) {
                int g = t;
                assertThat(list(r -> r.grantsOfGroup("g" + g))).hasSize(50);
                assertThat(list(r -> r.secretsGrantedTo(List.of("g" + g), null, null, 1000))).hasSize(50);
            }
        }

        private Tresor tresor(Store s) {
            return Tresor.open(s, keks.create(tmp, "kek"), IntegrityMonitor.NONE,
                    Clock.systemUTC());
        }

        @Test
        void concurrentSecretCreationThroughTheAdminApiAllLands() throws Exception {
            Tresor tresor = tresor(store);
            tresor.bootstrapAdmin("root", "spiffe://tresor.local/ns/t/sa/root");
            Caller root = tresor.authenticate("spiffe://tresor.local/ns/t/sa/root");
            tresor.createGroup(root, "g", null);
            tresor.createClient(root, "reader", "spiffe://tresor.local/ns/t/sa/reader", false);
            tresor.addMember(root, "g", "reader", Role.READ);
            java.util.concurrent.atomic.AtomicInteger thread = new java.util.concurrent.atomic.AtomicInteger();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            runAll(8, () -> {
                int t = thread.getAndIncrement();
                for (int i = 0; i < 50; i++) {
                    String name = "t" + t + "/s" + i;
                    try {
                        tresor.secrets().put(root, name, new PutSecret(("v-" + name).getBytes(StandardCharsets.UTF_8),
                                null, null, List.of("g"), null, 0, null), tresor.groupCheck());
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
                return null;
            });
            assertThat(failures).isEmpty();
            Caller reader = tresor.authenticate("spiffe://tresor.local/ns/t/sa/reader");
            List<SecretMeta> listed = tresor.secrets().list(reader, null, null, 10_000);
            assertThat(listed).hasSize(400);
            for (SecretMeta m : listed) {
                assertThat(new String(tresor.secrets().read(reader, m.name(), VersionSelector.current(), false).value(),
                        StandardCharsets.UTF_8)).isEqualTo("v-" + m.name());
            }
        }

        @Test
        void concurrentVersionsOfOneSecretGetDistinctConsecutiveNumbers() throws Exception {
            Tresor tresor = tresor(store);
            tresor.bootstrapAdmin("root", "spiffe://tresor.local/ns/t/sa/root");
            Caller root = tresor.authenticate("spiffe://tresor.local/ns/t/sa/root");
            tresor.createGroup(root, "g", null);
            tresor.createClient(root, "w", "spiffe://tresor.local/ns/t/sa/w", false);
            tresor.addMember(root, "g", "w", Role.WRITE);
            tresor.secrets().put(root, "shared", new PutSecret("v0".getBytes(StandardCharsets.UTF_8), null, null,
                    List.of("g"), null, null, null), tresor.groupCheck());
            Caller writer = tresor.authenticate("spiffe://tresor.local/ns/t/sa/w");
            java.util.concurrent.atomic.AtomicInteger thread = new java.util.concurrent.atomic.AtomicInteger();
            List<List<Integer>> got = runAll(8, () -> {
                int t = thread.getAndIncrement();
                List<Integer> mine = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    VersionMeta v = tresor.secrets().put(writer, "shared", new PutSecret(
                            ("t" + t + "-" + i).getBytes(StandardCharsets.UTF_8), null, null, null, null, null, null),
                            tresor.groupCheck());
                    mine.add(v.version());
                }
                return mine;
            });
            List<Integer> all = got.stream().flatMap(List::stream).sorted().toList();
            assertThat(all).isEqualTo(java.util.stream.IntStream.rangeClosed(2, 81).boxed().toList());
            assertThat(tresor.secrets().versions(writer, "shared")).hasSize(81);
            for (int v = 1; v <= 81; v++) {
                assertThat(tresor.secrets().read(writer, "shared", new VersionSelector(v, null), false).value()).isNotEmpty();
            }
            assertThat(tresor.secrets().meta(writer, "shared").currentVersion()).isEqualTo(81);
        }
    }
}
