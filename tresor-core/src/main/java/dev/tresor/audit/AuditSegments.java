package dev.tresor.audit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of an audit log's segments. The segment being written keeps the configured name
 * ({@code audit.log}); when it is cut it is renamed {@code audit-<first-seq>.log} after the seq of
 * its first record, and a new {@code audit.log} begins whose header continues the chain from the
 * closed segment's last record. A cut in progress writes the new segment as {@code audit.log.next}
 * first, so a crash at any point leaves a state the next start completes or discards.
 */
public final class AuditSegments {

    /** A closed segment and the seq of its first record. */
    public record Segment(Path file, long firstSeq) {}

    private AuditSegments() {}

    /** {@code audit.log} → {@code audit-<firstSeq>.log}. */
    public static Path closedName(Path active, long firstSeq) {
        String[] parts = split(active);
        return active.resolveSibling(parts[0] + "-" + firstSeq + parts[1]);
    }

    /** Where a cut writes the next segment before renaming it into place. */
    static Path nextFile(Path active) {
        return active.resolveSibling(active.getFileName() + ".next");
    }

    /** A description of the closed segments' names, for messages: {@code audit-<first-seq>.log}. */
    static String pattern(Path active) {
        String[] parts = split(active);
        return parts[0] + "-<first-seq>" + parts[1];
    }

    /** The closed segments of {@code active} present in its folder, oldest first. */
    public static List<Segment> closed(Path active) throws IOException {
        String[] parts = split(active);
        Pattern name = Pattern.compile(Pattern.quote(parts[0]) + "-([1-9][0-9]{0,18})" + Pattern.quote(parts[1]));
        List<Segment> found = new ArrayList<>();
        Path dir = active.toAbsolutePath().getParent();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                Matcher m = name.matcher(f.getFileName().toString());
                if (m.matches() && Files.isRegularFile(f)) {
                    found.add(new Segment(f, Long.parseLong(m.group(1))));
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        found.sort(Comparator.comparingLong(Segment::firstSeq));
        return found;
    }

    /** {@code audit.log} → {"audit", ".log"}; a name without an extension → {name, ""}. */
    private static String[] split(Path active) {
        String n = active.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? new String[] {n.substring(0, dot), n.substring(dot)} : new String[] {n, ""};
    }
}
