package dev.tresor.cli;

import java.net.URI;
import java.nio.file.Path;

/** Where the server is and which certificate, key and CA bundle to use with it, each with its origin. */
record ConnectionSettings(Setting<URI> address, Setting<Path> cert, Setting<Path> key, Setting<Path> ca) {}
