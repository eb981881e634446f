package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Parsing, help and usage errors, without a server. */
class CommandLineTest {

    @TempDir
    Path home;

    private CliHarness.Run run(String... args) {
        return CliHarness.run(Map.of(), home, args);
    }

    private static List<CommandLine> allCommands(CommandLine root) {
        List<CommandLine> all = new ArrayList<>(List.of(root));
        for (CommandLine sub : root.getSubcommands().values()) {
            if (!all.contains(sub)) {
                all.addAll(allCommands(sub));
            }
        }
        return all.stream().distinct().toList();
    }

    @Test
    void everyVisibleCommandHasExamplesAndFitsEightyColumns() {
        CommandLine root = Cli.commandLine(CliHarness.context(Map.of(), home, new java.io.ByteArrayOutputStream(),
                new java.io.ByteArrayOutputStream()));
        List<CommandLine> commands = allCommands(root).stream()
                .filter(c -> !c.getCommandSpec().usageMessage().hidden()).toList();
        assertThat(commands).hasSizeGreaterThan(25);
        for (CommandLine command : commands) {
            String usage = command.getUsageMessage(CommandLine.Help.Ansi.OFF);
            String name = command.getCommandSpec().qualifiedName();
            assertThat(usage).as(name).contains("Examples:");
            assertThat(usage).as(name).doesNotContain("[picocli WARN]");
            for (String line : command.getCommandSpec().usageMessage().footer()) {
                assertThat(line.length()).as(name + " footer line: " + line).isLessThanOrEqualTo(80);
            }
        }
    }

    @Test
    void topLevelHelpDocumentsExitCodesAndSettings() {
        CliHarness.Run help = run("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("Exit codes:", "  3  not found", "  5  unavailable", "TRESOR_ADDR",
                "~/.tresor/profile.yaml");
        assertThat(help.out()).doesNotContain("__aot-train");
    }

    @Test
    void versionPrintsTheVersion() {
        CliHarness.Run version = run("--version");
        assertThat(version.exitCode()).isZero();
        assertThat(version.out()).startsWith("tresor ").containsPattern("\\(commit ([0-9a-f]{12}|unknown)\\)");
    }

    @Test
    void onlyTheTopCommandPrintsTheProgramVersion() {
        CommandLine root = Cli.commandLine(CliHarness.context(Map.of(), home, new java.io.ByteArrayOutputStream(),
                new java.io.ByteArrayOutputStream()));
        for (CommandLine command : allCommands(root)) {
            String name = command.getCommandSpec().qualifiedName();
            boolean versionHelp = command.getCommandSpec().options().stream().anyMatch(o -> o.versionHelp());
            assertThat(versionHelp).as(name + " has a -V/--version of the program").isEqualTo(command == root);
            if (!command.getCommandSpec().usageMessage().hidden()) {
                assertThat(command.getCommandSpec().options().stream().anyMatch(o -> o.usageHelp()))
                        .as(name + " has -h/--help").isTrue();
            }
        }
        assertThat(run("secret", "ls", "--version").err()).contains("Unknown option: '--version'");
    }

    @Test
    void secretGetHasBothHelpAndAVersionOption() {
        CliHarness.Run help = run("secret", "get", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--version=N", "--label=LABEL", "--raw", "--out=FILE", "--json");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "nosuchcommand",
            "secret get",
            "secret put x",
            "secret put x --value a --file b",
            "secret put x --value a -",
            "secret put x --value a --ttl 1h --expires 2030-01-01T00:00:00Z",
            "secret get x --raw --json",
            "secret get x --version 1 --label current",
            "grant --group g",
            "grant --client c --secret s --group g",
            "grant --secret s --group g --role write",
            "revoke --client c",
            "client create c",
            "audit tail --limit 0",
            "whoami --bogus",
            "server",
            "init",
            "key adopt --config /nonexistent/tresor.yaml --from /nonexistent/kek.json",
            "key adopt --config /nonexistent/tresor.yaml --from-provider /nonexistent/provider.yaml",
            "key adopt --config /nonexistent/tresor.yaml --from /a.json --from-provider /b.yaml",
            "key adopt --config /nonexistent/tresor.yaml",
            "key passphrase --config /nonexistent/tresor.yaml --new-passphrase-env NOPE",
            "mount",
            "mount /tmp --timeout 0s",
            "ui",
            "ui --listen 0.0.0.0",
            "ui --port 70000",
    })
    void usageErrorsExitTwoWithAHint(String line) {
        // With no TRESOR_* settings, commands that get past parsing fail on settings: also exit 2.
        CliHarness.Run result = run(line.split(" "));
        assertThat(result.exitCode()).as(line).isEqualTo(ExitCodes.USAGE);
        assertThat(result.err()).as(line).startsWith("tresor: ");
        assertThat(result.err()).as(line).doesNotContain("Exception", "\tat ");
    }

    @Test
    void aGroupWithoutSubcommandShowsItsUsage() {
        CliHarness.Run result = run("secret");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(result.err()).contains("needs a subcommand", "put", "get", "versions");
    }

    @Test
    void completionPrintsABashScriptForTheWholeTree() {
        CliHarness.Run result = run("completion");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).contains("complete -F", "secret", "versions", "--allow-expired");
    }

    @Test
    void onlyTheNamedBranchIsBuilt() {
        CommandLine tree = Cli.commandLine(CliHarness.context(Map.of(), home, new java.io.ByteArrayOutputStream(),
                new java.io.ByteArrayOutputStream()), "--addr", "secret", "secret", "get", "x");
        assertThat(tree.getSubcommands()).containsOnlyKeys("secret");
        assertThat(tree.getSubcommands().get("secret").getSubcommands()).containsOnlyKeys("get");

        CommandLine aliases = Cli.commandLine(CliHarness.context(Map.of(), home, new java.io.ByteArrayOutputStream(),
                new java.io.ByteArrayOutputStream()), "secret", "list");
        assertThat(aliases.getSubcommands().get("secret").getSubcommands()).containsKeys("ls", "list");

        CommandLine help = Cli.commandLine(CliHarness.context(Map.of(), home, new java.io.ByteArrayOutputStream(),
                new java.io.ByteArrayOutputStream()), "--help");
        assertThat(help.getSubcommands()).containsKeys("dev", "secret", "audit", "whoami");
    }

    @Test
    void unreadableCertificateFilesNameTheSettingAndExitTwo() {
        Map<String, String> env = Map.of("TRESOR_ADDR", "https://127.0.0.1:1", "TRESOR_CERT", home.resolve("no.crt").toString(),
                "TRESOR_KEY", home.resolve("no.key").toString(), "TRESOR_CA", home.resolve("ca.crt").toString());
        CliHarness.Run result = CliHarness.run(env, home, "whoami");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(result.err()).contains("TRESOR_CERT").contains("no.crt").contains("does not exist");
    }

    @Test
    void auditVerifyWithoutAKekSaysHowToGiveOne() throws Exception {
        Path log = java.nio.file.Files.writeString(home.resolve("audit.log"), "{}\n");
        CliHarness.Run result = run("audit", "verify", log.toString());
        assertThat(result.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(result.err()).contains("--key KEKFILE", "--config SERVERCONFIG");
        assertThat(run("audit", "verify", home.resolve("missing.log").toString()).err()).contains("does not exist");
    }

    @Test
    void auditVerifyChecksAFolderOfSegmentsAsOneChainAndNamesAMissingOne() throws Exception {
        Path dir = java.nio.file.Files.createDirectories(home.resolve("audit"));
        Path kekFile = dir.resolve("kek.json");
        dev.tresor.crypto.LocalKeyProvider kek = dev.tresor.crypto.LocalKeyProvider.create(kekFile);
        Path log = dir.resolve("audit.log");
        try (dev.tresor.audit.FileAuditSink sink = new dev.tresor.audit.FileAuditSink(log, kek,
                java.time.Duration.ofMillis(5), java.time.Clock.systemUTC(), dev.tresor.audit.AuditStart.unanchored(),
                new dev.tresor.audit.SegmentPolicy(64 * 1024, null))) {
            for (int i = 0; i < 1_000; i++) {
                sink.append(new dev.tresor.audit.AuditEvent(java.time.Instant.now(), "req-" + i, "alice", "secret.read",
                        "db/openemr", 1, "allowed", 200, "10.0.0.1", null));
            }
        }
        var segments = dev.tresor.audit.AuditSegments.closed(log);
        assertThat(segments).hasSizeGreaterThan(2);
        CliHarness.Run ok = run("audit", "verify", dir.toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("1001 records in " + (segments.size() + 1) + " segments", "closed cleanly");

        java.nio.file.Files.delete(segments.get(1).file());
        CliHarness.Run broken = run("audit", "verify", dir.toString());
        assertThat(broken.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(broken.out()).contains("BROKEN", segments.get(2).file().getFileName().toString(), "continues from seq");

        java.nio.file.Files.delete(segments.get(0).file());
        CliHarness.Run archived = run("audit", "verify", dir.toString());
        assertThat(archived.exitCode()).as(archived.out()).isZero();
        assertThat(archived.out()).contains("from seq " + segments.get(2).firstSeq(), "archived or deleted");
    }

    @Test
    void auditVerifyChecksTheLogsOfSeveralNodesChainByChain() throws Exception {
        Path dir = java.nio.file.Files.createDirectories(home.resolve("cluster-audit"));
        dev.tresor.crypto.LocalKeyProvider kek = dev.tresor.crypto.LocalKeyProvider.create(dir.resolve("kek.json"));
        for (String node : java.util.List.of("node-a", "node-b")) {
            // Each node's log cut into segments, all in one folder: grouped by the node id in their records.
            try (dev.tresor.audit.FileAuditSink sink = new dev.tresor.audit.FileAuditSink(dir.resolve("audit-" + node + ".log"),
                    kek, java.time.Duration.ofMillis(5), java.time.Clock.systemUTC(), dev.tresor.audit.AuditStart.unanchored(),
                    new dev.tresor.audit.SegmentPolicy(32 * 1024, null), node)) {
                for (int i = 0; i < 300; i++) {
                    sink.append(new dev.tresor.audit.AuditEvent(java.time.Instant.now(), node + "-req-" + i, "alice",
                            "secret.read", "db/openemr", 1, "allowed", 200, "10.0.0.1", null));
                }
            }
        }
        CliHarness.Run ok = run("audit", "verify", dir.toString());
        assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("OK: node node-a", "OK: node node-b", "301 records, hash chain intact");

        Path b = dir.resolve("audit-node-b.log");
        java.util.List<String> lines = new java.util.ArrayList<>(java.nio.file.Files.readAllLines(b));
        lines.set(2, lines.get(2).replace("alice", "mallory"));
        java.nio.file.Files.write(b, lines);
        CliHarness.Run broken = run("audit", "verify", dir.toString());
        assertThat(broken.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(broken.out()).contains("OK: node node-a", "BROKEN: node node-b");
    }
}
