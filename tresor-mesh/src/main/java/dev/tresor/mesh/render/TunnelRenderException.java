package dev.tresor.mesh.render;

import java.util.List;

/** The topology cannot be carried by {@code tresor tunnel} as written; every reason, sorted. */
public final class TunnelRenderException extends RuntimeException {

    private final List<String> problems;

    public TunnelRenderException(List<String> problems) {
        super("cannot render tunnel configurations:\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
