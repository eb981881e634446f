package dev.tresor.ui;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Decides whether the console may bind where it is asked to. The console acts with the operator's
 * own identity, so anyone who can reach it and steal a session acts as the operator: loopback only,
 * unless the operator explicitly accepts the exposure.
 */
record ListenAddress(InetAddress address, boolean loopback) {

    static ListenAddress resolve(String host, boolean allowRemote) {
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ConsoleException("cannot listen on '" + host + "': no such address");
        }
        boolean loopback = address.isLoopbackAddress();
        if (!loopback && !allowRemote) {
            throw new ConsoleException("refusing to listen on " + host + ": it is not a loopback address, and the"
                    + " console acts with your identity for anyone who reaches it; keep the default 127.0.0.1"
                    + " (use an SSH tunnel), or pass --allow-remote to accept the risk");
        }
        return new ListenAddress(address, loopback);
    }
}
