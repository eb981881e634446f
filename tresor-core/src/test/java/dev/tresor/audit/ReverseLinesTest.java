package dev.tresor.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a file's lines backwards in blocks: every complete line once, in reverse, whatever the block boundaries. */
class ReverseLinesTest {

    @TempDir
    Path dir;

    private List<String> backwards(Path file, long end, int maxLine) throws IOException {
        List<String> out = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ReverseLines lines = new ReverseLines(ch, end, maxLine);
            byte[] line;
            while ((line = lines.previous()) != null) {
                out.add(new String(line, StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    @Test
    void linesOfRandomLengthsAcrossManyBlocksComeBackInReverse() throws IOException {
        Random random = new Random(42);
        List<String> written = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 3_000; i++) {
            String line = i + ":" + "x".repeat(random.nextInt(i % 100 == 0 ? 70_000 : 400));
            written.add(line);
            text.append(line).append('\n');
        }
        Path file = Files.writeString(dir.resolve("f"), text);
        List<String> expected = new ArrayList<>(written);
        Collections.reverse(expected);
        assertThat(backwards(file, Files.size(file), 1 << 20)).isEqualTo(expected);
    }

    @Test
    void aLineStillBeingWrittenAtTheEndIsLeftOutAndAnOffsetEndStartsThere() throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "one\ntwo\nthree\nfou");
        assertThat(backwards(file, Files.size(file), 100)).containsExactly("three", "two", "one");
        assertThat(backwards(file, "one\ntwo\n".length(), 100)).containsExactly("two", "one");
        Path unfinished = Files.writeString(dir.resolve("g"), "x".repeat(200_000));
        assertThat(backwards(unfinished, Files.size(unfinished), 1 << 20)).isEmpty();
        assertThat(backwards(Files.writeString(dir.resolve("e"), ""), 0, 100)).isEmpty();
    }

    @Test
    void anOversizeLineNeverComesBackWhole() throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "a\n" + "y".repeat(300_000) + "\nb\n");
        List<String> lines = backwards(file, Files.size(file), 1_000);
        assertThat(lines.getFirst()).isEqualTo("b");
        assertThat(lines.getLast()).isEqualTo("a");
        assertThat(lines).allMatch(l -> l.length() <= 1_000 + 64 * 1024);
    }
}
