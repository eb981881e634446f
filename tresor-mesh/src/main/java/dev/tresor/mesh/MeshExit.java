package dev.tresor.mesh;

/**
 * Exit codes of the mesh commands: the same numbers as tresor-cli's ExitCodes (which this module
 * cannot depend on, since the CLI depends on it).
 */
final class MeshExit {
    static final int OK = 0;
    /** The check found a problem. */
    static final int FAILED = 1;
    /** The topology or a manifest is invalid or unreadable, or uses a policy feature the checker does not model. */
    static final int USAGE = 2;

    private MeshExit() {}
}
