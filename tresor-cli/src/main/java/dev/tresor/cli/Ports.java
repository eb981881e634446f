package dev.tresor.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Which local ports can be listened on, checked the way Jetty binds (SO_REUSEADDR on). */
final class Ports {

    private Ports() {}

    static boolean isFree(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A port free right now, other than {@code avoid}. */
    static int anyFree(String host, int avoid) {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(host, 0));
                if (socket.getLocalPort() != avoid) {
                    return socket.getLocalPort();
                }
            } catch (IOException e) {
                throw CliException.error("cannot find a free port on " + host + ": " + e.getMessage());
            }
        }
        throw CliException.error("cannot find a free port on " + host);
    }
}
