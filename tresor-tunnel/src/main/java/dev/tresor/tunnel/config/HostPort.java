package dev.tresor.tunnel.config;

import java.net.InetSocketAddress;

/** A {@code HOST:PORT} (IPv6 as {@code [::1]:PORT}); port 0 means "any free port" for a listener. */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 0-65535");
        }
    }

    /** @param field the option or config field, named in the error message */
    public static HostPort parse(String field, String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(field + " is required, as HOST:PORT (e.g. 127.0.0.1:3307)");
        }
        String t = text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException(field + " '" + t + "' is not HOST:PORT (e.g. 0.0.0.0:3307 or [::1]:3307)");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(field + " '" + t + "': write an IPv6 address in brackets, e.g. [::1]:3307");
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + " '" + t + "': the port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(field + " '" + t + "': the port must be 0-65535");
        }
        return new HostPort(host, port);
    }

    public InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
