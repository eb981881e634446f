package dev.tresor.audit;

import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.store.Rows.AuditRecordQuery;
import dev.tresor.store.Rows.AuditRecordRow;
import dev.tresor.store.Store;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /v1/audit} answers with. One node: its own log. Several nodes on one store
 * ({@code store} given): this node's records from its own log (complete and current) together with
 * every other node's records from their copies in the store ({@link AuditTableCopy}; a fraction of
 * a second behind, and there also for a node that is down or gone), merged by time.
 *
 * <p>Sequence cursors ({@code after}, {@code before}) belong to one chain: with {@code node} they
 * page that node's records (this node's from its file, another's from the store); without it they
 * page this node's own log, as on a single node. An answer that holds other nodes' records has no
 * {@code next}: page it by time ({@code until} = the oldest time shown); one that holds only this
 * node's records is exactly a single node's answer, cursor included.
 *
 * <p>A copy is shown only if its row MAC verifies: one edited or inserted in the database is left
 * out and reported to the integrity monitor (an alarm and an {@code integrity.violation} record).
 * A copy without a MAC (written by a node older than schema 11) is left out without an alarm. A
 * copy deleted or held back in the database cannot be told from one not yet written; the nodes'
 * file chains ({@code tresor audit verify}) stay the evidence for that.
 */
public final class AuditReader {

    private final Path ownLog;
    private final String ownNode;
    private final Store store;
    private final RowSeals seals;
    private final IntegrityMonitor monitor;

    /** @param ownNode this node's id (null on a single node); @param store the shared store, or null for this node's log only */
    public AuditReader(Path ownLog, String ownNode, Store store, RowSeals seals, IntegrityMonitor monitor) {
        this.ownLog = ownLog;
        this.ownNode = ownNode;
        this.store = store;
        this.seals = seals;
        this.monitor = monitor;
    }

    public AuditQuery.Page page(String node, AuditQuery.Range range, String client, String secret, int limit) throws IOException {
        boolean own = node == null ? store == null || range.after() != null || range.before() != null : node.equals(ownNode);
        if (own) {
            return withNode(AuditQuery.page(ownLog, range, client, secret, limit));
        }
        if (store == null) {
            return new AuditQuery.Page(List.of(), null); // a single node knows no other node's records
        }
        if (node != null) {
            List<AuditRecordRow> rows = copies(node, null, range, client, secret, limit + 1);
            boolean more = rows.size() > limit;
            List<Map<String, Object>> records = new ArrayList<>();
            for (AuditRecordRow row : more ? rows.subList(0, limit) : rows) {
                records.add(AuditQuery.projectLine(row.line(), row.node()));
            }
            records = records.reversed(); // oldest first, as a file page
            return new AuditQuery.Page(List.copyOf(records), more ? (Long) records.getFirst().get("seq") : null);
        }
        AuditQuery.Page ownPage = withNode(AuditQuery.page(ownLog, range, client, secret, limit));
        List<AuditRecordRow> others = copies(null, ownNode, range, client, secret, limit);
        if (others.isEmpty()) {
            return ownPage; // no other node (or none in range): exactly a single node's answer, cursor included
        }
        List<Map<String, Object>> merged = new ArrayList<>(ownPage.records());
        for (AuditRecordRow row : others) {
            merged.add(AuditQuery.projectLine(row.line(), row.node()));
        }
        merged.sort(Comparator.comparing((Map<String, Object> r) -> Instant.parse((String) r.get("time")))
                .thenComparing(r -> String.valueOf(r.get("node"))).thenComparing(r -> (Long) r.get("seq")));
        List<Map<String, Object>> newest = merged.size() > limit ? merged.subList(merged.size() - limit, merged.size()) : merged;
        return new AuditQuery.Page(List.copyOf(newest), null);
    }

    private List<AuditRecordRow> copies(String node, String notNode, AuditQuery.Range range, String client, String secret,
                                        int limit) {
        AuditRecordQuery q = new AuditRecordQuery(node, notNode,
                range.since() == null ? null : range.since().toEpochMilli(),
                range.until() == null ? null : range.until().toEpochMilli(),
                range.after(), range.before(), client, secret, limit);
        List<AuditRecordRow> valid = new ArrayList<>();
        for (AuditRecordRow row : store.read(r -> r.auditRecords(q))) {
            if (seals.valid(row)) {
                valid.add(row);
            } else if (row.mac() != null) {
                // (A copy without a MAC was written by a node older than schema 11, during a rolling
                // upgrade: not shown, and as harmless as a deleted copy, so no alarm.)
                monitor.violation("audit record copy " + row.node() + "/" + row.seq(),
                        "the copied record's row MAC does not verify (edited or inserted in the database); left out of the answer");
            }
        }
        return valid;
    }

    /** Records of this node's log from before it had a node id carry none: name this node. */
    private AuditQuery.Page withNode(AuditQuery.Page page) {
        if (ownNode == null) {
            return page;
        }
        List<Map<String, Object>> records = new ArrayList<>(page.records().size());
        for (Map<String, Object> r : page.records()) {
            if (r.get("node") == null) {
                Map<String, Object> named = new java.util.LinkedHashMap<>(r);
                named.put("node", ownNode);
                r = java.util.Collections.unmodifiableMap(named);
            }
            records.add(r);
        }
        return new AuditQuery.Page(List.copyOf(records), page.next());
    }
}
