package dev.tresor.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where {@code --out} may write. A missing folder is made only one level deep, as {@code mkdir}
 * does; deeper only with {@code --parents}, so a typo in a path does not quietly grow a tree of
 * folders holding a key.
 */
final class OutputFolders {

    private OutputFolders() {}

    /** {@code folder} exists, or can be made with one mkdir, or {@code parents} allows making its parents too. */
    static void requireCreatable(Path folder, boolean parents, String option) {
        Path absolute = folder.toAbsolutePath().normalize();
        if (Files.isDirectory(absolute) || parents) {
            return;
        }
        Path parent = absolute.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw CliException.usage(option + " " + folder + ": the folder " + parent + " does not exist; create it, "
                    + "or add --parents to create it too");
        }
    }

    /** The folder a file is written into exists, or {@code parents} allows making it. */
    static void requireParentOf(Path file, boolean parents, String option) {
        Path parent = file.toAbsolutePath().normalize().getParent();
        if (parent != null && !Files.isDirectory(parent) && !parents) {
            throw CliException.usage(option + " " + file + ": the folder " + parent + " does not exist; create it, "
                    + "or add --parents to create it too");
        }
    }
}
