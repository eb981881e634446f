package dev.tresor.cli;

/**
 * The connection options given on the command line ({@code --addr} etc.). Picocli fills it
 * through the top command's inherited option setters, wherever on the line the user put them;
 * it lives for one invocation only.
 */
final class ConnectionFlags {

    private String address;
    private String cert;
    private String key;
    private String ca;
    private String profile;

    String address() {
        return address;
    }

    void address(String value) {
        this.address = value;
    }

    String cert() {
        return cert;
    }

    void cert(String value) {
        this.cert = value;
    }

    String key() {
        return key;
    }

    void key(String value) {
        this.key = value;
    }

    String ca() {
        return ca;
    }

    void ca(String value) {
        this.ca = value;
    }

    String profile() {
        return profile;
    }

    void profile(String value) {
        this.profile = value;
    }
}
