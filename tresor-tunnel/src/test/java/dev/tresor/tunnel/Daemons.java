package dev.tresor.tunnel;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real Redis and MariaDB servers from the Debian packages (.ci/run installs them); missing ones fail the test loudly. */
final class Daemons {

    private Daemons() {}

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static void requireExecutable(String path, String packageName) {
        if (!Files.isExecutable(Path.of(path))) {
            throw new IllegalStateException(path + " is not installed: apt-get install " + packageName + " (.ci/run does this)");
        }
    }

    /** A running daemon process on a loopback port; {@link #close()} kills it. */
    record Daemon(Process process, int port, Path dir) implements AutoCloseable {
        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static Daemon redis(Path dir) throws IOException, InterruptedException {
        requireExecutable("/usr/bin/redis-server", "redis-server");
        requireExecutable("/usr/bin/redis-cli", "redis-tools");
        Files.createDirectories(dir);
        int port = freePort();
        Process process = new ProcessBuilder("/usr/bin/redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no", "--protected-mode", "no")
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        awaitPort(process, port, dir.resolve("redis.log"));
        return new Daemon(process, port, dir);
    }

    static final String DB_USER = "app";
    static final String DB_PASSWORD = "app-test-password";

    /** mariadb-install-db into {@code dir}, then mariadbd on a free port with a user {@link #DB_USER} and a database "app". */
    static Daemon mariadb(Path dir) throws IOException, InterruptedException {
        requireExecutable("/usr/sbin/mariadbd", "mariadb-server");
        requireExecutable("/usr/bin/mariadb-install-db", "mariadb-server");
        requireExecutable("/usr/bin/mariadb", "mariadb-client");
        Files.createDirectories(dir);
        Path log = dir.resolve("install.log");
        Process install = new ProcessBuilder("/usr/bin/mariadb-install-db", "--no-defaults", "--datadir=" + dir.resolve("data"),
                "--auth-root-authentication-method=socket", "--skip-test-db")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!install.waitFor(120, TimeUnit.SECONDS) || install.exitValue() != 0) {
            install.destroyForcibly();
            throw new IllegalStateException("mariadb-install-db failed: " + Files.readString(log));
        }
        Files.writeString(dir.resolve("init.sql"), """
                CREATE DATABASE IF NOT EXISTS app;
                CREATE USER IF NOT EXISTS '%1$s'@'%%' IDENTIFIED BY '%2$s';
                GRANT ALL PRIVILEGES ON app.* TO '%1$s'@'%%';
                """.formatted(DB_USER, DB_PASSWORD));
        int port = freePort();
        Process process = new ProcessBuilder("/usr/sbin/mariadbd", "--no-defaults", "--user=root",
                "--datadir=" + dir.resolve("data"), "--port=" + port, "--bind-address=127.0.0.1",
                "--socket=" + dir.resolve("mysqld.sock"), "--pid-file=" + dir.resolve("mysqld.pid"),
                "--skip-name-resolve", "--skip-ssl", "--init-file=" + dir.resolve("init.sql"),
                "--log-error=" + dir.resolve("error.log"), "--innodb-buffer-pool-size=16M", "--performance-schema=OFF")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        awaitPort(process, port, dir.resolve("error.log"));
        // The port opens before the init file has run; wait until the user can log in.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Result r = run(dir, List.of("/usr/bin/mariadb", "--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-P" + port,
                    "-u" + DB_USER, "-p" + DB_PASSWORD, "-e", "SELECT 1"));
            if (r.exit() == 0) {
                break;
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("mariadbd did not accept the test user: " + r.output());
            }
            Thread.sleep(100);
        }
        return new Daemon(process, port, dir);
    }

    private static void awaitPort(Process process, int port, Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("daemon exited: " + (Files.exists(log) ? Files.readString(log) : ""));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(30);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("daemon did not listen on " + port + " within 60 s");
    }

    record Result(int exit, String output) {
    }

    /** Runs a command to completion (at most 60 s), stdout and stderr together. */
    static Result run(Path dir, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "cmd-", ".out");
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command + " did not finish within 60 s: " + Files.readString(out));
        }
        return new Result(p.exitValue(), Files.readString(out));
    }
}
