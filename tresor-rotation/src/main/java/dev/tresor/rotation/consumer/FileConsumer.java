package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.ConsumerConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Renders the template to the file atomically: a temporary file in the same folder (mode 0600 from
 * its creation), written and fsynced, given its owner, group and mode, renamed over the target, and
 * the folder fsynced, so a reader sees the old file or the new one, never a torn one, even across
 * a crash or power loss.
 */
public final class FileConsumer implements Consumer {

    private final ConsumerConfig.File config;
    private final Template template;

    public FileConsumer(ConsumerConfig.File config) {
        this.config = config;
        this.template = Template.parse(config.describe(), config.template());
    }

    @Override
    public String describe() {
        return config.describe();
    }

    @Override
    public boolean canTell() {
        return true;
    }

    @Override
    public Optional<Candidate> holds(List<Candidate> candidates) {
        byte[] content;
        try {
            content = Files.readAllBytes(config.path());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
        try {
            for (Candidate c : candidates) {
                byte[] rendered = render(c.credentials(), c.slot());
                boolean same = Arrays.equals(rendered, content);
                Arrays.fill(rendered, (byte) 0);
                if (same) {
                    return Optional.of(c);
                }
            }
            return Optional.empty();
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    private byte[] render(DbCredentials c, Slot slot) {
        return template.render(c, slot).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void deliver(DbCredentials credentials, Slot slot) throws ConsumerFailure {
        byte[] bytes = render(credentials, slot);
        try {
            write(bytes);
        } catch (IOException | RuntimeException e) {
            throw new ConsumerFailure("cannot write " + config.path() + ": " + e.getMessage());
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    private void write(byte[] bytes) throws IOException {
        Path target = config.path();
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                ch.force(true);
            }
            PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
            UserPrincipalLookupService lookup = tmp.getFileSystem().getUserPrincipalLookupService();
            if (config.owner() != null) {
                view.setOwner(lookup.lookupPrincipalByName(config.owner()));
            }
            if (config.group() != null) {
                GroupPrincipal group = lookup.lookupPrincipalByGroupName(config.group());
                view.setGroup(group);
            }
            view.setPermissions(permissions(config.mode()));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir + " cannot rename atomically");
            }
            moved = true;
            try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
                folder.force(true);
            }
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    static Set<PosixFilePermission> permissions(String octal) {
        int mode = Integer.parseInt(octal, 8);
        StringBuilder text = new StringBuilder();
        String letters = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            text.append((mode & (1 << (8 - i))) != 0 ? letters.charAt(i) : '-');
        }
        return PosixFilePermissions.fromString(text.toString());
    }

    @Override
    public List<String> preflight() {
        List<String> problems = new ArrayList<>();
        Path dir = config.path().toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            problems.add(describe() + ": folder " + dir + " does not exist; create it");
        } else if (!Files.isWritable(dir)) {
            problems.add(describe() + ": folder " + dir + " is not writable by this user; the file is replaced by rename there");
        }
        UserPrincipalLookupService lookup = dir.getFileSystem().getUserPrincipalLookupService();
        try {
            if (config.owner() != null) {
                lookup.lookupPrincipalByName(config.owner());
            }
        } catch (IOException e) {
            problems.add(describe() + ": owner '" + config.owner() + "' does not exist on this machine");
        }
        try {
            if (config.group() != null) {
                lookup.lookupPrincipalByGroupName(config.group());
            }
        } catch (IOException e) {
            problems.add(describe() + ": group '" + config.group() + "' does not exist on this machine");
        }
        return problems;
    }
}
