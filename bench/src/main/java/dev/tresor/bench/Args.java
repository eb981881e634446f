package dev.tresor.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} command-line flags with typed getters and defaults; unknown flags are refused. */
final class Args {

    private final Map<String, String> values = new HashMap<>();
    private final List<String> used = new ArrayList<>();

    Args(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("expected --flag, got '" + a + "'");
            }
            String name = a.substring(2);
            int eq = name.indexOf('=');
            if (eq >= 0) {
                values.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                values.put(name, argv[++i]);
            } else {
                values.put(name, "true");
            }
        }
    }

    String string(String name, String fallback) {
        used.add(name);
        return values.getOrDefault(name, fallback);
    }

    String required(String name) {
        used.add(name);
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    int integer(String name, int fallback) {
        String v = string(name, null);
        return v == null ? fallback : Integer.parseInt(v);
    }

    long longValue(String name, long fallback) {
        String v = string(name, null);
        return v == null ? fallback : Long.parseLong(v);
    }

    boolean flag(String name) {
        return Boolean.parseBoolean(string(name, "false"));
    }

    Duration seconds(String name, double fallback) {
        String v = string(name, null);
        double s = v == null ? fallback : Double.parseDouble(v);
        return Duration.ofMillis(Math.round(s * 1000));
    }

    Path path(String name) {
        return Path.of(required(name));
    }

    List<Integer> integers(String name, String fallback) {
        List<Integer> out = new ArrayList<>();
        for (String s : string(name, fallback).split(",")) {
            if (!s.isBlank()) {
                out.add(Integer.parseInt(s.strip()));
            }
        }
        return out;
    }

    List<Long> pids(String name) {
        List<Long> out = new ArrayList<>();
        for (String s : string(name, "").split("[, ]")) {
            if (!s.isBlank()) {
                out.add(Long.parseLong(s.strip()));
            }
        }
        return out;
    }

    /** Fails on flags no getter asked for (typos). Call after reading every flag. */
    void checkAllUsed() {
        for (String k : values.keySet()) {
            if (!used.contains(k)) {
                throw new IllegalArgumentException("unknown flag --" + k);
            }
        }
    }
}
