package dev.tresor.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Prints N currently free loopback TCP ports, space-separated (for the scripts). */
public final class FreePorts {

    private FreePorts() {}

    public static void main(String[] argv) throws IOException {
        int n = argv.length == 0 ? 1 : Integer.parseInt(argv[0]);
        List<ServerSocket> held = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                out.append(i == 0 ? "" : " ").append(s.getLocalPort());
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        System.out.println(out);
    }
}
