package dev.tresor.mesh.topology;

import java.util.List;
import java.util.stream.Collectors;

/** The topology file is unusable; every problem names its field path and line, all at once so one edit fixes them all. */
public final class TopologyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** One problem: {@code field} is a path such as {@code edges[2].to}; {@code line} is 1-based (0: whole file). */
    public record Problem(String field, int line, String message) {
        @Override
        public String toString() {
            return "line " + line + ": " + field + ": " + message;
        }
    }

    private final transient List<Problem> problems;

    public TopologyException(String source, List<Problem> problems) {
        super(source + ": invalid topology:\n" + problems.stream().map(p -> "  " + p).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }
}
