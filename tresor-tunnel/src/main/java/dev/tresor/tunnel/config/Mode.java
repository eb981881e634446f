package dev.tresor.tunnel.config;

/** Which side of the pair a tunnel is. */
public enum Mode {
    /** Accepts mTLS from allowed identities, forwards plaintext to a local service. */
    SERVER,
    /** Accepts plaintext from a local app, originates mTLS to a tunnel server with the expected identity. */
    CLIENT
}
