package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.ConsumerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command after delivery (typically a reload or restart of the application). It gets the
 * slot and user name in {@code TRESOR_ROTATION_SLOT} and {@code TRESOR_ROTATION_USERNAME}, never the
 * password (the application reads that from its file). A non-zero exit or a timeout fails the step.
 */
public final class CommandConsumer implements Consumer {

    private static final int OUTPUT_LIMIT = 400;

    private final ConsumerConfig.Command config;

    public CommandConsumer(ConsumerConfig.Command config) {
        this.config = config;
    }

    @Override
    public String describe() {
        return config.describe();
    }

    @Override
    public void deliver(DbCredentials credentials, Slot slot) throws ConsumerFailure {
        ProcessBuilder builder = new ProcessBuilder(config.command()).redirectErrorStream(true);
        builder.environment().put("TRESOR_ROTATION_SLOT", slot.name());
        builder.environment().put("TRESOR_ROTATION_USERNAME", credentials.username());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new ConsumerFailure(describe() + " cannot start: " + e.getMessage());
        }
        try {
            process.getOutputStream().close();
            byte[] output = new byte[OUTPUT_LIMIT];
            int[] length = {0};
            Thread reader = Thread.ofVirtual().start(() -> drain(process.getInputStream(), output, length));
            if (!process.waitFor(config.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ConsumerFailure(describe() + " did not finish within " + config.timeout().toSeconds() + " s");
            }
            reader.join(1000);
            if (process.exitValue() != 0) {
                throw new ConsumerFailure(describe() + " exited with " + process.exitValue() + ": "
                        + new String(output, 0, length[0], StandardCharsets.UTF_8).strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConsumerFailure(describe() + " was interrupted");
        } catch (IOException e) {
            throw new ConsumerFailure(describe() + ": " + e.getMessage());
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    private static void drain(InputStream in, byte[] keep, int[] length) {
        byte[] buffer = new byte[4096];
        try (in) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                int room = keep.length - length[0];
                if (room > 0) {
                    int copy = Math.min(room, n);
                    System.arraycopy(buffer, 0, keep, length[0], copy);
                    length[0] += copy;
                }
            }
        } catch (IOException e) {
            // The process ended; what was read is enough for the message.
        }
    }

    @Override
    public List<String> preflight() {
        List<String> problems = new ArrayList<>();
        String program = config.command().getFirst();
        if (program.contains("/")) {
            if (!Files.isExecutable(Path.of(program))) {
                problems.add(describe() + ": " + program + " is not an executable file");
            }
        } else {
            String path = System.getenv().getOrDefault("PATH", "");
            boolean found = false;
            for (String dir : path.split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                    found = true;
                    break;
                }
            }
            if (!found) {
                problems.add(describe() + ": " + program + " is not on PATH");
            }
        }
        return problems;
    }
}
