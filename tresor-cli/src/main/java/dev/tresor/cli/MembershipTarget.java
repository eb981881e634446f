package dev.tresor.cli;

import picocli.CommandLine.Option;

/** What {@code grant} and {@code revoke} act on: a client's membership or a secret's place in a group (exactly one). */
final class MembershipTarget {

    @Option(names = "--client", paramLabel = "CLIENT", description = "A client: add it to (or remove it from) the group.")
    String client;

    @Option(names = "--secret", paramLabel = "SECRET", description = "A secret: let the group read it (or stop it).")
    String secret;
}
