package dev.tresor.audit;

import dev.tresor.crypto.KeyProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.nio.file.DirectoryStream;

/**
 * Checks an audit log ({@code tresor audit verify}): the header's chain key unwraps under the KEK,
 * and every line parses, is an event, continues the seq, links to its predecessor's MAC and
 * carries a valid MAC of its own; then the anchor, if present, must name a record the file still
 * holds. Reports the first problem only: after it, nothing in the file can be trusted anyway.
 */
public final class AuditVerifier {

    /** A closed segment's name: {@code <stem>-<first-seq>[.ext]}. */
    private static final java.util.regex.Pattern CLOSED_NAME = java.util.regex.Pattern.compile(".+-([1-9][0-9]{0,18})(\\.[^.]*)?");

    private AuditVerifier() {}

    public static VerificationResult verify(Path logFile, KeyProvider kek) {
        Objects.requireNonNull(logFile, "logFile");
        Objects.requireNonNull(kek, "kek");
        if (!Files.isRegularFile(logFile)) {
            return VerificationResult.bad(0, -1, Files.exists(logFile)
                    ? logFile + " is not a regular file"
                    : logFile + " does not exist");
        }
        ChainScan.Result scan;
        try {
            scan = ChainScan.scan(logFile, kek);
        } catch (NoSuchFileException e) {
            return VerificationResult.bad(0, -1, logFile + " does not exist");
        } catch (IOException e) {
            return VerificationResult.bad(0, -1, "cannot read " + logFile + ": " + e.getMessage());
        }
        ChainScan.Problem problem = scan.firstProblem();
        if (problem != null) {
            return VerificationResult.bad(scan.records(), problem.line(), problem.message());
        }
        return VerificationResult.good(scan.records(), FileAuditSink.ACTION_CLOSE.equals(scan.lastAction()))
                .across(1, scan.base() + 1);
    }

    /**
     * Checks a set of segments as one chain ({@code tresor audit verify DIR|FILE...}): each file on
     * its own, ordered by the seq its header stands at, and each header against the last record of
     * the segment before it. Folders are searched (not recursively) for files that begin with an
     * audit log header. The segment written last is checked against its anchor if it has one. The
     * first segment may start after seq 0 when the older ones were archived or deleted: the
     * result's {@code firstSeq} says where verification began.
     */
    public static VerificationResult verify(List<Path> paths, KeyProvider kek) {
        List<NodeChain> chains = verifyChains(paths, kek);
        if (chains.size() == 1) {
            return chains.getFirst().result();
        }
        long records = 0;
        int segments = 0;
        boolean closed = true;
        for (NodeChain c : chains) {
            if (!c.result().ok()) {
                VerificationResult r = c.result();
                return new VerificationResult(false, records + r.records(), r.firstBadLine(), "the chain of node "
                        + (c.node() == null ? "(no node id)" : c.node())
                        + " (" + c.files().size() + " file(s)): " + r.problem(), false, segments + r.segments(), r.firstSeq());
            }
            records += c.result().records();
            segments += c.result().segments();
            closed &= c.result().cleanlyClosed();
        }
        return new VerificationResult(true, records, -1, null, closed, segments, 1);
    }

    /**
     * One node's chain among the logs given to {@link #verifyChains}: the node id its records carry
     * (null for a log written without one), its files, and its verdict.
     */
    public record NodeChain(String node, List<Path> files, VerificationResult result) {}

    private static final class ListingFailed extends RuntimeException {
        final transient VerificationResult result;

        ListingFailed(VerificationResult result) {
            super(result.problem(), null, false, false);
            this.result = result;
        }
    }

    /**
     * Checks the logs of several server nodes at once ({@code tresor audit verify} over the logs of
     * a cluster): the files are sorted into chains by the node id their records carry (each node
     * writes its own chain; every segment of it names the node), and each chain is verified as one
     * log's segments are. Files whose records name no node (a single node's log) form one chain,
     * as before node ids existed.
     */
    public static List<NodeChain> verifyChains(List<Path> paths, KeyProvider kek) {
        Objects.requireNonNull(kek, "kek");
        List<Path> files;
        try {
            files = expand(paths);
        } catch (ListingFailed e) {
            return List.of(new NodeChain(null, List.of(), e.result));
        }
        java.util.Map<String, List<Path>> byNode = new java.util.LinkedHashMap<>();
        for (Path f : files) {
            byNode.computeIfAbsent(nodeOf(f), k -> new ArrayList<>()).add(f);
        }
        List<NodeChain> out = new ArrayList<>();
        byNode.forEach((node, chain) -> out.add(new NodeChain(node.isEmpty() ? null : node, List.copyOf(chain),
                verifyChain(chain, kek))));
        return out;
    }

    /** The node id the first records of a file carry, or "" if none does. */
    private static String nodeOf(Path f) {
        try (LineReader reader = new LineReader(Files.newInputStream(f), ChainCodec.MAX_LINE_BYTES)) {
            LineReader.Line line;
            for (int i = 0; i < 5 && (line = reader.next()) != null; i++) {
                if (line.terminated() && !line.oversize()
                        && ChainCodec.parse(line.bytes(), line.length()).get("node") instanceof String node) {
                    return node;
                }
            }
        } catch (IOException | ChainCodec.MalformedRecordException | RuntimeException e) {
            // no node id readable here; the file is verified (and what is wrong named) with the others
        }
        return "";
    }

    private static List<Path> expand(List<Path> paths) {
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (DirectoryStream<Path> in = Files.newDirectoryStream(p)) {
                    for (Path f : in) {
                        if (Files.isRegularFile(f) && !f.getFileName().toString().endsWith(".next") && startsWithHeader(f)) {
                            files.add(f);
                        }
                    }
                } catch (IOException e) {
                    throw new ListingFailed(VerificationResult.bad(0, -1, "cannot list " + p + ": " + e.getMessage()));
                }
            } else {
                files.add(p);
            }
        }
        if (files.isEmpty()) {
            throw new ListingFailed(VerificationResult.bad(0, -1, "no audit log in " + paths));
        }
        return files;
    }

    /** Checks {@code files} as the segments of one chain (see {@link #verify(List, KeyProvider)}). */
    private static VerificationResult verifyChain(List<Path> files, KeyProvider kek) {
        if (files.size() == 1) {
            return verify(files.getFirst(), kek);
        }
        record Scanned(Path file, ChainScan.Result scan) {}
        List<Scanned> scanned = new ArrayList<>();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                return VerificationResult.bad(0, -1, f + (Files.exists(f) ? " is not a regular file" : " does not exist"));
            }
            try {
                // Only the segment being written has an anchor; closed ones are vouched for by their successor.
                ChainScan.Result r = Files.exists(Anchor.fileFor(f)) ? ChainScan.scan(f, kek) : ChainScan.scanClosed(f, kek);
                scanned.add(new Scanned(f, r));
            } catch (IOException e) {
                return VerificationResult.bad(0, -1, "cannot read " + f + ": " + e.getMessage());
            }
        }
        scanned.sort(Comparator.comparingLong((Scanned s) -> s.scan().base()));
        long records = 0;
        for (int i = 0; i < scanned.size(); i++) {
            Scanned s = scanned.get(i);
            String name = s.file().getFileName().toString();
            if (i > 0) {
                Scanned before = scanned.get(i - 1);
                if (before.scan().base() == s.scan().base()) {
                    return VerificationResult.bad(records, -1, before.file().getFileName() + " and " + name
                            + " both start after seq " + s.scan().base() + " — an older copy of a segment lies beside it")
                            .across(scanned.size(), scanned.getFirst().scan().base() + 1);
                }
                ChainScan.Problem link = ChainScan.link(before.file(), before.scan(), s.file(), s.scan());
                if (link != null) {
                    return VerificationResult.bad(records, link.line(), link.message())
                            .across(scanned.size(), scanned.getFirst().scan().base() + 1);
                }
            }
            java.util.regex.Matcher numbered = CLOSED_NAME.matcher(name);
            if (!Files.exists(Anchor.fileFor(s.file())) && numbered.matches() && s.scan().chainKey() != null
                    && Long.parseLong(numbered.group(1)) != s.scan().base() + 1) {
                return VerificationResult.bad(records, 1, name + " line 1: its first record is seq " + (s.scan().base() + 1)
                        + ", not the " + numbered.group(1) + " its name says — segments were renamed or swapped")
                        .across(scanned.size(), scanned.getFirst().scan().base() + 1);
            }
            ChainScan.Problem problem = s.scan().firstProblem();
            if (problem != null) {
                return VerificationResult.bad(records + s.scan().records(), problem.line(), name + ": " + problem.message())
                        .across(scanned.size(), scanned.getFirst().scan().base() + 1);
            }
            records += s.scan().records();
        }
        ChainScan.Result last = scanned.getLast().scan();
        return VerificationResult.good(records, FileAuditSink.ACTION_CLOSE.equals(last.lastAction()))
                .across(scanned.size(), scanned.getFirst().scan().base() + 1);
    }

    private static boolean startsWithHeader(Path f) {
        try (LineReader reader = new LineReader(Files.newInputStream(f), ChainCodec.MAX_LINE_BYTES)) {
            LineReader.Line line = reader.next();
            if (line == null || !line.terminated() || line.oversize()) {
                return false;
            }
            return ChainCodec.TYPE_HEADER.equals(ChainCodec.parse(line.bytes(), line.length()).get("type"));
        } catch (IOException | ChainCodec.MalformedRecordException e) {
            return false;
        }
    }
}
