package dev.tresor.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;

/**
 * This server node's id, written into every audit record when several nodes may share the store.
 * {@code node.id} if configured; otherwise the id kept beside the node's audit log
 * ({@code audit.log.node}), generated at the first start as the host name and a random suffix.
 * Kept beside the log because it names that log's chain: a node that starts on a new disk (a new
 * pod with an empty volume) starts a new chain and gets a new id, a restarted one keeps both.
 */
record NodeId(String value) {

    static final String SUFFIX = ".node";

    /**
     * @param configured   {@code node.id}, or null
     * @param auditLog     the node's first audit log file
     * @param severalNodes whether other nodes may share the store (PostgreSQL); without, and without
     *                     {@code node.id}, there is no id and the records stay as a single node writes them
     */
    static NodeId resolve(String configured, Path auditLog, boolean severalNodes) {
        if (configured != null) {
            return new NodeId(configured);
        }
        if (!severalNodes || auditLog == null) {
            return null;
        }
        Path file = auditLog.resolveSibling(auditLog.getFileName() + SUFFIX);
        try {
            if (Files.isRegularFile(file)) {
                String kept = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (kept.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
                    return new NodeId(kept);
                }
                throw new IllegalStateException(file + " does not hold a node id (1-63 of A-Z a-z 0-9 . _ -); fix or delete it");
            }
            String id = generated();
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(temp, id + "\n", StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return new NodeId(id);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep this node's id in " + file + ": " + e.getMessage(), e);
        }
    }

    private static String generated() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "node";
        }
        host = host.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-").replaceAll("^[^a-z0-9]+", "");
        if (host.isEmpty()) {
            host = "node";
        }
        if (host.length() > 48) {
            host = host.substring(0, 48);
        }
        byte[] random = new byte[3];
        new SecureRandom().nextBytes(random);
        return host + "-" + HexFormat.of().formatHex(random);
    }
}
