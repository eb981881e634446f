package dev.tresor.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.TinkRuntime;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Audit chain keys re-wrapped under a newer KEK, beside the logs: what lets a KEK rotation leave
 * every existing log verifiable with the new KEK alone, without touching a log's bytes (each
 * header carries its chain key wrapped by the KEK of its day, and the header is under the chain's
 * MAC, so it cannot be rewritten).
 *
 * <p>One file per audit folder, {@value #FILE_NAME} (mode 0600, replaced atomically): one JSON
 * line per (chain, KEK): {@code chain} = hex SHA-256 of the header's wrapped key, {@code kekId},
 * {@code wrappedKey} = the chain key wrapped by that KEK, with the header's wrapped key's digest
 * bound as associated data, so an entry opens only for its own chain. Nothing in it is usable
 * without the KEK; deleting it makes the older logs need the older KEK again (fails closed).
 */
public final class ChainKeys {

    public static final String FILE_NAME = "tresor-audit-keys.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChainKeys() {}

    /** The file beside {@code log} (an active log or a closed segment). */
    public static Path fileFor(Path log) {
        return log.toAbsolutePath().getParent().resolve(FILE_NAME);
    }

    /**
     * The chain key of a header: unwrapped by {@code kek} directly, or else from a re-wrapped copy
     * under {@code kek} in the folder's {@value #FILE_NAME}.
     */
    static KeysetHandle open(Path log, byte[] wrapped, KeyProvider kek) throws GeneralSecurityException {
        TinkRuntime.ensureRegistered();
        try {
            return TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped, kek.kek(), ChainCodec.KEY_CONTEXT);
        } catch (GeneralSecurityException direct) {
            String chain = chainId(wrapped);
            List<Entry> entries;
            try {
                entries = read(fileFor(log));
            } catch (IOException e) {
                throw direct;
            }
            for (Entry e : entries) {
                if (e.chain().equals(chain) && e.kekId().equals(kek.keyId())) {
                    return TinkProtoKeysetFormat.parseEncryptedKeyset(Base64.getDecoder().decode(e.wrappedKey()),
                            kek.kek(), associatedData(chain));
                }
            }
            throw direct;
        }
    }

    /**
     * Re-wraps the chain key of {@code log} and of each of its closed segments from {@code from} to
     * {@code to}, into the folder's {@value #FILE_NAME}. The logs themselves are not touched, so this
     * runs beside a sink that is writing them. Returns how many chains it re-wrapped.
     *
     * @throws IOException if a header cannot be read, or a chain key does not open with {@code from}
     */
    public static int rewrap(Path log, KeyProvider from, KeyProvider to) throws IOException {
        List<Path> files = new ArrayList<>();
        for (AuditSegments.Segment s : AuditSegments.closed(log)) {
            files.add(s.file());
        }
        if (Files.exists(log)) {
            files.add(log);
        }
        Path target = fileFor(log);
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Entry e : read(target)) {
            entries.put(e.chain() + " " + e.kekId(), e);
        }
        int rewrapped = 0;
        java.util.Set<String> done = new java.util.HashSet<>();
        for (Path file : files) {
            byte[] wrapped = headerKey(file);
            if (wrapped == null) {
                continue; // an empty log (created, nothing written yet): no chain key to keep
            }
            String chain = chainId(wrapped);
            if (!done.add(chain)) {
                continue; // segments of one chain share its key
            }
            try {
                KeysetHandle handle = open(file, wrapped, from);
                byte[] under = TinkProtoKeysetFormat.serializeEncryptedKeyset(handle, to.kek(), associatedData(chain));
                entries.put(chain + " " + to.keyId(), new Entry(chain, to.keyId(), Base64.getEncoder().encodeToString(under)));
                rewrapped++;
            } catch (GeneralSecurityException e) {
                throw new IOException("the chain key of audit log " + file + " does not open with KEK " + from.keyId()
                        + " (nor through " + target.getFileName() + "): it cannot be re-wrapped", e);
            }
        }
        write(target, entries.values());
        return rewrapped;
    }

    record Entry(String chain, String kekId, String wrappedKey) {}

    private static byte[] headerKey(Path file) throws IOException {
        String first;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            first = in.readLine();
        }
        if (first == null || first.isBlank()) {
            return null;
        }
        Object key = JSON.readValue(first, Map.class).get("wrappedKey");
        if (!(key instanceof String text)) {
            throw new IOException("audit log " + file + " has no wrapped chain key in its header");
        }
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("audit log " + file + " has a malformed wrapped chain key in its header", e);
        }
    }

    private static List<Entry> read(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            Map<?, ?> m = JSON.readValue(line, Map.class);
            if (m.get("chain") instanceof String c && m.get("kekId") instanceof String k
                    && m.get("wrappedKey") instanceof String w) {
                out.add(new Entry(c, k, w));
            }
        }
        return out;
    }

    private static void write(Path file, java.util.Collection<Entry> entries) throws IOException {
        StringBuilder text = new StringBuilder();
        for (Entry e : entries) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("chain", e.chain());
            m.put("kekId", e.kekId());
            m.put("wrappedKey", e.wrappedKey());
            text.append(JSON.writeValueAsString(m)).append('\n');
        }
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        try (FileChannel ch = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            ch.write(java.nio.ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String chainId(byte[] wrapped) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(wrapped));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    private static byte[] associatedData(String chain) {
        byte[] context = ChainCodec.KEY_CONTEXT;
        byte[] id = chain.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[context.length + 1 + id.length];
        System.arraycopy(context, 0, out, 0, context.length);
        System.arraycopy(id, 0, out, context.length + 1, id.length);
        return out;
    }
}
