package dev.tresor.mount;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * An immutable snapshot of what the mounting client may read, built from one listing; replaced as
 * a whole when the listing changes, so a lookup never sees half an update.
 *
 * <p>Layout: secret {@code app/db/password} is the file {@code app/db/password} (its current
 * version); its versions are files {@code app/db/password@versions/N}. The {@code @versions}
 * folders are reachable but not listed: '@' cannot occur in a secret name, so they never clash
 * with a secret, and {@code find}/{@code grep -r} over the mount do not read every old version
 * (each read is an audited server read). When a name is also a folder (secrets {@code app/db} and
 * {@code app/db/password}), the folder wins and {@code app/db}'s value stays reachable as
 * {@code app/db@versions/N}.
 */
final class Tree {

    static final String VERSIONS = "@versions";

    /** What a path names. */
    sealed interface Target {}

    record Folder(String path, SortedSet<String> children) implements Target {}

    record VersionsFolder(SecretEntry secret) implements Target {}

    /** A file showing one version of a secret ({@code current}: the plain name, else {@code @versions/N}). */
    record SecretFile(SecretEntry secret, int version, boolean current) implements Target {}

    private final Map<String, SecretEntry> secrets;
    private final Map<String, SortedSet<String>> folders;

    private Tree(Map<String, SecretEntry> secrets, Map<String, SortedSet<String>> folders) {
        this.secrets = secrets;
        this.folders = folders;
    }

    static Tree empty() {
        return of(List.of());
    }

    static Tree of(List<SecretEntry> entries) {
        Map<String, SecretEntry> secrets = new HashMap<>();
        Map<String, SortedSet<String>> folders = new HashMap<>();
        folders.put("", new TreeSet<>());
        for (SecretEntry entry : entries) {
            secrets.put(entry.name(), entry);
            String[] segments = entry.name().split("/");
            StringBuilder parent = new StringBuilder();
            for (int i = 0; i < segments.length - 1; i++) {
                String folder = parent.isEmpty() ? segments[i] : parent + "/" + segments[i];
                folders.computeIfAbsent(parent.toString(), k -> new TreeSet<>()).add(segments[i]);
                folders.computeIfAbsent(folder, k -> new TreeSet<>());
                parent.setLength(0);
                parent.append(folder);
            }
        }
        for (SecretEntry entry : entries) {
            int slash = entry.name().lastIndexOf('/');
            String parent = slash < 0 ? "" : entry.name().substring(0, slash);
            if (entry.currentVersion() != null && !folders.containsKey(entry.name())) {
                folders.get(parent).add(entry.name().substring(slash + 1));
            }
        }
        Map<String, SortedSet<String>> frozen = new HashMap<>();
        folders.forEach((k, v) -> frozen.put(k, Collections.unmodifiableSortedSet(v)));
        return new Tree(Map.copyOf(secrets), Map.copyOf(frozen));
    }

    /** The target of a FUSE path ({@code /a/b}), or null when it names nothing the client may read. */
    Target lookup(String fusePath) {
        String path = fusePath.startsWith("/") ? fusePath.substring(1) : fusePath;
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        SortedSet<String> folder = folders.get(path);
        if (folder != null) {
            return new Folder(path, folder);
        }
        SecretEntry secret = secrets.get(path);
        if (secret != null) {
            return secret.currentVersion() == null ? null : new SecretFile(secret, secret.currentVersion(), true);
        }
        if (path.endsWith(VERSIONS)) {
            SecretEntry owner = secrets.get(path.substring(0, path.length() - VERSIONS.length()));
            return owner == null ? null : new VersionsFolder(owner);
        }
        int marker = path.lastIndexOf(VERSIONS + "/");
        if (marker > 0) {
            SecretEntry owner = secrets.get(path.substring(0, marker));
            String number = path.substring(marker + VERSIONS.length() + 1);
            if (owner != null && number.matches("[1-9][0-9]{0,8}")) {
                int version = Integer.parseInt(number);
                return version <= owner.latestVersion() ? new SecretFile(owner, version, false) : null;
            }
        }
        return null;
    }

    boolean readable(String name) {
        return secrets.containsKey(name);
    }

    /** The entries of a versions folder: {@code 1..latest}. */
    static List<String> versionNames(SecretEntry secret) {
        List<String> names = new ArrayList<>();
        for (int v = 1; v <= secret.latestVersion(); v++) {
            names.add(Integer.toString(v));
        }
        return names;
    }

    int size() {
        return secrets.size();
    }
}
