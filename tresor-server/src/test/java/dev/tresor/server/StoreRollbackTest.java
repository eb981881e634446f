package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.server.config.ConfigException;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 (and 22, finding 2) as an operator or an attacker would try it on a real server: the
 * whole SQLite database put back from an older copy while the audit log kept the newer writes, and
 * the audit log deleted with its anchor. Both refuse the start naming the cause; an operator's
 * {@code --accept-rollback REASON} starts it and the chain records the reason.
 */
class StoreRollbackTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static int status(HttpResponse<String> r) {
        return r.statusCode();
    }

    private static void copyStore(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("tresor.db")).toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static void deleteStoreFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("tresor.db")).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void anOlderCopyOfTheDatabaseIsRefusedWhileTheAuditLogRecordedNewerWrites() throws IOException {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            var admin = f.admin();
            assertThat(status(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}"))).isEqualTo(201);
            assertThat(status(f.call(admin, "PUT", "/v1/groups/app/clients/admin", "{\"role\":\"write\"}"))).isEqualTo(200);
            assertThat(status(f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"old\",\"groups\":[\"app\"]}"))).isEqualTo(201);
            f.stopServer();
            Path backup = dir.resolve("backup");
            copyStore(dir, backup);

            f.startServer();
            assertThat(status(f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"new\",\"cas\":1}"))).isEqualTo(200);
            f.stopServer();

            deleteStoreFiles(dir);
            copyStore(backup, dir);
            assertThatThrownBy(f::startServer).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("the database was put back from an older copy")
                    .hasMessageContaining("--accept-rollback");

            f.startServer("restored the 06:00 backup after a disk failure");
            JsonNode read = JSON.readTree(f.call(admin, "GET", "/v1/secrets/db/pw", null).body());
            assertThat(read.get("value").asText()).as("the operator accepted the older store").isEqualTo("old");
            f.stopServer();
            List<String> accepted = f.auditLines().stream().filter(l -> l.contains("\"audit.rollback.accepted\"")).toList();
            assertThat(accepted).hasSize(1);
            assertThat(accepted.getFirst()).contains("restored the 06:00 backup after a disk failure")
                    .contains("put back from an older copy");

            // Accepted once: the next start is a normal one.
            f.startServer();
            assertThat(status(f.call(admin, "GET", "/v1/whoami", null))).isEqualTo(200);
        }
    }

    @Test
    void anAuditLogDeletedWithItsAnchorIsRefusedAtStart() throws IOException {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            assertThat(status(f.call(f.admin(), "POST", "/v1/groups", "{\"name\":\"app\"}"))).isEqualTo(201);
            f.stopServer();
            Files.delete(f.auditFile());
            Files.delete(f.auditFile().resolveSibling("audit.log.anchor"));

            assertThatThrownBy(f::startServer).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("the store holds a checkpoint of this log, but the log is missing");

            f.startServer("audit volume lost; evidence kept in ticket 4711");
            assertThat(status(f.call(f.admin(), "GET", "/v1/whoami", null))).isEqualTo(200);
            f.stopServer();
            assertThat(f.auditLines().get(1)).contains("audit.rollback.accepted").contains("ticket 4711");
        }
    }
}
