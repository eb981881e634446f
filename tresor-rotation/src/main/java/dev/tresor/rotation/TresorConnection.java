package dev.tresor.rotation;

import java.net.URI;
import java.nio.file.Path;

/** Where the Tresor API is and the rotation job's own client certificate, key and CA bundle (PEM files). */
public record TresorConnection(URI address, Path cert, Path key, Path ca) {}
