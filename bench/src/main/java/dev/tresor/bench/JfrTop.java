package dev.tresor.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises the CPU samples ({@code jdk.ExecutionSample}) of a JFR recording: the hottest
 * methods by self time (top frame) and by total time (anywhere on the stack), and total time
 * by area (TLS, Jetty, SQLite, Tink, Tresor's own packages...). Prints markdown.
 *
 * <pre>JfrTop FILE.jfr [TOP]</pre>
 */
public final class JfrTop {

    /** Areas by package prefix, most specific first. */
    private static final Map<String, String> AREAS = areas();

    private JfrTop() {}

    public static void main(String[] argv) throws IOException {
        Path file = Path.of(argv[0]);
        int top = argv.length > 1 ? Integer.parseInt(argv[1]) : 25;
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> total = new HashMap<>();
        Map<String, Integer> areaTotal = new HashMap<>();
        Map<String, Integer> areaSelf = new HashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                continue;
            }
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
                continue;
            }
            samples++;
            List<RecordedFrame> frames = st.getFrames();
            String first = name(frames.getFirst());
            self.merge(first, 1, Integer::sum);
            areaSelf.merge(area(frames.getFirst()), 1, Integer::sum);
            Set<String> seen = new HashSet<>();
            Set<String> seenAreas = new HashSet<>();
            for (RecordedFrame f : frames) {
                String n = name(f);
                if (seen.add(n)) {
                    total.merge(n, 1, Integer::sum);
                }
                String a = area(f);
                if (seenAreas.add(a)) {
                    areaTotal.merge(a, 1, Integer::sum);
                }
            }
        }
        System.out.println("CPU samples (jdk.ExecutionSample): " + samples + "\n");
        print("Self time (top frame) by area", areaSelf, samples, top);
        print("Total time (on the stack) by area", areaTotal, samples, top);
        print("Hottest methods, self time", self, samples, top);
        print("Hottest methods, total time", total, samples, top * 2);
    }

    private static void print(String title, Map<String, Integer> counts, int samples, int top) {
        System.out.println("### " + title + "\n");
        System.out.println("| % of samples | samples | where |");
        System.out.println("|---:|---:|---|");
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(en -> System.out.printf(java.util.Locale.ROOT, "| %.1f | %d | `%s` |%n",
                        100.0 * en.getValue() / samples, en.getValue(), en.getKey()));
        System.out.println();
    }

    private static String name(RecordedFrame f) {
        RecordedMethod m = f.getMethod();
        return m.getType().getName() + "." + m.getName();
    }

    private static String area(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        for (Map.Entry<String, String> a : AREAS.entrySet()) {
            if (type.startsWith(a.getKey())) {
                return a.getValue();
            }
        }
        return "other (" + (type.lastIndexOf('.') > 0 ? type.substring(0, type.lastIndexOf('.')) : type) + ")";
    }

    private static Map<String, String> areas() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("dev.tresor.audit", "Tresor audit");
        m.put("dev.tresor.store", "Tresor store (JDBC)");
        m.put("dev.tresor.integrity", "Tresor integrity (seals, ledger)");
        m.put("dev.tresor.crypto", "Tresor crypto");
        m.put("dev.tresor.access", "Tresor access control");
        m.put("dev.tresor.secrets", "Tresor secrets");
        m.put("dev.tresor.api", "Tresor API (routes, JSON)");
        m.put("dev.tresor.server", "Tresor server (metrics, wiring)");
        m.put("dev.tresor", "Tresor other");
        m.put("sun.security.ssl", "JDK TLS (sun.security.ssl)");
        m.put("sun.security.ec", "JDK EC crypto");
        m.put("com.sun.crypto.provider", "JDK symmetric crypto (SunJCE)");
        m.put("sun.security", "JDK security other");
        m.put("javax.crypto", "JDK javax.crypto");
        m.put("org.sqlite", "sqlite-jdbc");
        m.put("org.postgresql", "pgjdbc");
        m.put("com.zaxxer.hikari", "HikariCP");
        m.put("com.google.crypto.tink", "Tink");
        m.put("com.fasterxml.jackson", "Jackson");
        m.put("org.eclipse.jetty", "Jetty");
        m.put("io.micrometer", "Micrometer");
        m.put("java.util.regex", "JDK regex");
        m.put("java.security", "JDK java.security");
        m.put("java.time", "JDK java.time");
        m.put("java.util.concurrent", "JDK j.u.concurrent");
        m.put("java.util", "JDK java.util");
        m.put("java.lang.invoke", "JDK java.lang.invoke");
        m.put("java.lang", "JDK java.lang");
        m.put("java.io", "JDK java.io");
        m.put("java.nio", "JDK java.nio");
        m.put("sun.nio", "JDK sun.nio");
        m.put("jdk.internal", "JDK internal");
        return m;
    }
}
