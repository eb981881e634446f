package dev.tresor.audit;

import com.google.crypto.tink.Mac;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The sidecar {@code <log>.anchor}: the seq and MAC of the newest record known to be on disk,
 * MACed under the chain key. A hash chain alone cannot show that whole records were cut off its
 * end (the shortened chain is still a valid chain); the anchor can, because it is rewritten after
 * every fsync and names a record the file must still contain.
 *
 * @param seq  the anchored record's seq (0 = the header)
 * @param mac  the anchored record's MAC, as written in the log
 * @param time when the anchor was written
 */
record Anchor(long seq, String mac, Instant time, Map<String, Object> fields) {

    static final String ANCHOR_MAC = "anchorMac";
    private static final int MAX_ANCHOR_BYTES = 64 * 1024;

    static Path fileFor(Path log) {
        return log.resolveSibling(log.getFileName() + ".anchor");
    }

    /** Atomically replaces the anchor file: a crash leaves either the old or the new anchor. */
    static void write(Path log, Mac chainKey, long seq, String mac, Instant time) throws IOException {
        Map<String, Object> fields = ChainCodec.anchorFields(seq, mac, time);
        String anchorMac = ChainCodec.computeMac(chainKey, ChainCodec.ANCHOR_DOMAIN, fields);
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        ChainCodec.writeLine(out, fields, ANCHOR_MAC, anchorMac);
        Path target = fileFor(log);
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(temp,
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
                PosixFilePermissions.asFileAttribute(FileAuditSink.FILE_PERMISSIONS))) {
            ByteBuffer bytes = ByteBuffer.wrap(out.toByteArray());
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            // Without this a crash could leave an empty anchor after the rename.
            ch.force(false);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Reads the anchor of {@code log}; empty if there is none.
     *
     * @throws ChainCodec.MalformedRecordException if the file exists but is not an anchor
     */
    static Optional<Anchor> read(Path log) throws IOException, ChainCodec.MalformedRecordException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(fileFor(log))) {
            bytes = in.readNBytes(MAX_ANCHOR_BYTES + 1);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (bytes.length > MAX_ANCHOR_BYTES) {
            throw new ChainCodec.MalformedRecordException("too large to be an anchor");
        }
        int length = bytes.length;
        if (length == 0 || bytes[length - 1] != '\n') {
            throw new ChainCodec.MalformedRecordException("incomplete");
        }
        Map<String, Object> fields = ChainCodec.parse(bytes, length - 1);
        if (!ChainCodec.TYPE_ANCHOR.equals(fields.get("type"))
                || !(fields.get("seq") instanceof Long seq) || seq < 0
                || !(fields.get(ChainCodec.MAC) instanceof String mac)
                || !(fields.get("time") instanceof String time)) {
            throw new ChainCodec.MalformedRecordException("not an anchor record");
        }
        try {
            return Optional.of(new Anchor(seq, mac, Instant.parse(time), fields));
        } catch (java.time.format.DateTimeParseException e) {
            throw new ChainCodec.MalformedRecordException("invalid time");
        }
    }

    boolean verify(Mac chainKey) {
        return ChainCodec.verifyMac(chainKey, ChainCodec.ANCHOR_DOMAIN, fields, ANCHOR_MAC);
    }
}
