package dev.tresor.audit;

import com.google.crypto.tink.Mac;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint of one audit log, kept in the store: where its checkpoint record {@code seq} is
 * (byte {@code offset} of its line), that record's MAC, and the store epochs it recorded. Sealed
 * under the log's chain key, so only a holder of the KEK can make or move one; a row copied from
 * another log, or edited, does not verify.
 *
 * @param log    the log's file name (the row's key)
 * @param seq    the checkpoint record's seq
 * @param mac    the checkpoint record's MAC, as written in the log
 * @param offset byte offset of the checkpoint record's line in the log
 * @param epochs the store epochs the checkpoint record carries
 * @param time   when the checkpoint was taken
 */
public record Checkpoint(String log, long seq, String mac, long offset, WriteEpochs epochs, Instant time) {

    /** A checkpoint record as written: its seq in the log and the sealed form the store keeps. */
    public record Sealed(String log, long seq, String record) {}

    static final String DOMAIN = "tresor/audit/checkpoint/v1";
    static final String TYPE = "checkpoint";
    private static final String SEAL = "sealMac";

    /** Encodes this checkpoint as one JSON line (no newline), MACed under {@code chainKey}. */
    String seal(Mac chainKey) {
        Map<String, Object> fields = fields();
        String sealMac = ChainCodec.computeMac(chainKey, DOMAIN, fields);
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        ChainCodec.writeLine(out, fields, SEAL, sealMac);
        String line = out.toString(StandardCharsets.UTF_8);
        return line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
    }

    /**
     * Reads and verifies a sealed checkpoint of the log named {@code log}.
     *
     * @throws ChainCodec.MalformedRecordException naming what is wrong
     */
    static Checkpoint open(String sealed, String log, Mac chainKey) throws ChainCodec.MalformedRecordException {
        byte[] bytes = sealed.getBytes(StandardCharsets.UTF_8);
        Map<String, Object> fields = ChainCodec.parse(bytes, bytes.length);
        if (!TYPE.equals(fields.get("type"))
                || !(fields.get("log") instanceof String name)
                || !(fields.get("seq") instanceof Long seq) || seq < 1
                || !(fields.get(ChainCodec.MAC) instanceof String mac)
                || !(fields.get("offset") instanceof Long offset) || offset < 1
                || !(fields.get("aclEpoch") instanceof Long acl) || acl < 0
                || !(fields.get("secretEpoch") instanceof Long secret) || secret < 0
                || !(fields.get("time") instanceof String time)) {
            throw new ChainCodec.MalformedRecordException("not a checkpoint record");
        }
        if (!ChainCodec.verifyMac(chainKey, DOMAIN, fields, SEAL)) {
            throw new ChainCodec.MalformedRecordException("its MAC does not verify under this log's chain key"
                    + " (edited, or taken from another log)");
        }
        if (!name.equals(log)) {
            throw new ChainCodec.MalformedRecordException("it belongs to log " + name + ", not " + log);
        }
        try {
            return new Checkpoint(name, seq, mac, offset, new WriteEpochs(acl, secret), Instant.parse(time));
        } catch (DateTimeParseException e) {
            throw new ChainCodec.MalformedRecordException("invalid time");
        }
    }

    private Map<String, Object> fields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("type", TYPE);
        f.put("log", log);
        f.put("seq", seq);
        f.put(ChainCodec.MAC, mac);
        f.put("offset", offset);
        f.put("aclEpoch", epochs.acl());
        f.put("secretEpoch", epochs.secret());
        f.put("time", time.toString());
        return f;
    }
}
