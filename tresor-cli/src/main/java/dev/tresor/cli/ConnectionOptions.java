package dev.tresor.cli;

import picocli.CommandLine.Option;

/**
 * The connection options, mixed into the top command and into every command that talks to the
 * API, so they can be written before or after the subcommand name ({@code tresor --addr X whoami}
 * and {@code tresor whoami --addr X}). Not inherited by every subcommand on purpose: {@code audit
 * verify} has its own {@code --key} (the KEK), and server commands have no use for them.
 * Values land in the invocation's shared {@link ConnectionFlags}.
 */
final class ConnectionOptions {

    private final CliContext context;

    ConnectionOptions(CliContext context) {
        this.context = context;
    }

    @Option(names = "--addr", paramLabel = "URL", description = "Server address, e.g. https://127.0.0.1:7443 (default: $TRESOR_ADDR).")
    void address(String value) {
        context.flags().address(value);
    }

    @Option(names = "--cert", paramLabel = "FILE", description = "Client certificate chain, PEM (default: $TRESOR_CERT).")
    void cert(String value) {
        context.flags().cert(value);
    }

    @Option(names = "--key", paramLabel = "FILE", description = "Client private key, PEM (default: $TRESOR_KEY).")
    void key(String value) {
        context.flags().key(value);
    }

    @Option(names = "--ca", paramLabel = "FILE", description = "CA bundle the server's certificate must chain to, PEM (default: $TRESOR_CA).")
    void ca(String value) {
        context.flags().ca(value);
    }

    @Option(names = "--profile", paramLabel = "FILE",
            description = "Profile with addr/cert/key/ca (default: $TRESOR_PROFILE, else ~/.tresor/profile.yaml if present).")
    void profile(String value) {
        context.flags().profile(value);
    }
}
