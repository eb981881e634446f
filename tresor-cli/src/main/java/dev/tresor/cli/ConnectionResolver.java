package dev.tresor.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides the connection settings: each one from its flag, else its environment variable, else
 * the profile ({@code --profile}, else {@code $TRESOR_PROFILE}, else {@code ~/.tresor/profile.yaml}
 * if it exists). A missing setting is a usage error that names the variable to set.
 */
final class ConnectionResolver {

    static final String ADDR = "TRESOR_ADDR";
    static final String CERT = "TRESOR_CERT";
    static final String KEY = "TRESOR_KEY";
    static final String CA = "TRESOR_CA";
    static final String PROFILE = "TRESOR_PROFILE";

    private final CliContext context;

    ConnectionResolver(CliContext context) {
        this.context = context;
    }

    ConnectionSettings resolve() {
        ConnectionFlags flags = context.flags();
        Profile profile = profile();
        List<String> missing = new ArrayList<>();
        Setting<String> addr = pick(flags.address(), "--addr", ADDR, profile, "addr", missing);
        Setting<String> cert = pick(flags.cert(), "--cert", CERT, profile, "cert", missing);
        Setting<String> key = pick(flags.key(), "--key", KEY, profile, "key", missing);
        Setting<String> ca = pick(flags.ca(), "--ca", CA, profile, "ca", missing);
        if (!missing.isEmpty()) {
            String where = profile == null
                    ? "or write them to " + defaultProfile() + " as addr:, cert:, key:, ca:"
                    : "or add them to the profile " + profile.file();
            throw CliException.usage("not configured: set " + String.join(", ", missing)
                    + " (or pass " + flagsFor(missing) + ", " + where + "); `tresor dev` prints ready-made export lines");
        }
        // Several nodes: TRESOR_ADDR=https://a:8443,https://b:8443 (tried in this order).
        List<URI> addresses = new ArrayList<>();
        for (String one : addr.value().split(",")) {
            if (!one.isBlank()) {
                addresses.add(address(new Setting<>(one, addr.source())));
            }
        }
        if (addresses.isEmpty()) {
            throw CliException.usage(addr.source() + " is empty; use https://HOST:PORT[,https://HOST2:PORT]");
        }
        return new ConnectionSettings(new Setting<>(addresses.getFirst(), addr.source()), path(cert), path(key), path(ca),
                addresses.subList(1, addresses.size()));
    }

    private Profile profile() {
        String flag = context.flags().profile();
        if (flag != null) {
            return existingProfile(Path.of(flag), "--profile");
        }
        String env = context.envOrNull(PROFILE);
        if (env != null) {
            return existingProfile(Path.of(env), PROFILE);
        }
        Path fallback = defaultProfile();
        return Files.isRegularFile(fallback) ? Profile.load(fallback, context.home()) : null;
    }

    private Path defaultProfile() {
        return context.home().resolve(".tresor").resolve("profile.yaml");
    }

    private Profile existingProfile(Path file, String source) {
        if (!Files.isRegularFile(file)) {
            throw CliException.usage("profile " + file + " (from " + source + ") does not exist");
        }
        return Profile.load(file, context.home());
    }

    private Setting<String> pick(String flag, String flagName, String envName, Profile profile, String profileKey,
                                 List<String> missing) {
        if (flag != null && !flag.isBlank()) {
            return new Setting<>(flag, flagName);
        }
        String env = context.envOrNull(envName);
        if (env != null) {
            return new Setting<>(env, envName);
        }
        if (profile != null && profile.get(profileKey) != null) {
            return new Setting<>(profile.get(profileKey), profileKey + " in " + profile.file());
        }
        missing.add(envName);
        return null;
    }

    private static String flagsFor(List<String> missing) {
        List<String> flags = new ArrayList<>();
        for (String name : missing) {
            flags.add(switch (name) {
                case ADDR -> "--addr";
                case CERT -> "--cert";
                case KEY -> "--key";
                default -> "--ca";
            });
        }
        return String.join("/", flags);
    }

    private static Setting<Path> path(Setting<String> setting) {
        return new Setting<>(Path.of(setting.value()).toAbsolutePath().normalize(), setting.source());
    }

    /** Accepts {@code https://host:port[/prefix]} or a bare {@code host:port}; refuses plain HTTP (the API is mTLS only). */
    static URI address(Setting<String> setting) {
        String text = setting.value().strip();
        if (!text.contains("://")) {
            text = "https://" + text;
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw CliException.usage(setting.source() + " '" + setting.value() + "' is not an address; use https://HOST:PORT");
        }
        if (!"https".equalsIgnoreCase(uri.getScheme())) {
            throw CliException.usage(setting.source() + " '" + setting.value()
                    + "': Tresor speaks only HTTPS with client certificates; use https://HOST:PORT");
        }
        if (uri.getHost() == null) {
            throw CliException.usage(setting.source() + " '" + setting.value() + "' has no host; use https://HOST:PORT");
        }
        if (uri.getQuery() != null || uri.getFragment() != null) {
            throw CliException.usage(setting.source() + " '" + setting.value() + "' must not have a query or fragment");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return URI.create("https://" + uri.getRawAuthority() + path);
    }
}
