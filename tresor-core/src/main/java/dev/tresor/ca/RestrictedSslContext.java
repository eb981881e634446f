package dev.tresor.ca;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * An SSLContext that applies a fixed policy to everything it creates: only the given protocols,
 * and (for servers) client certificates required. The JDK's own defaults depend on
 * {@code java.security} settings the operator may have changed; this makes the policy part of
 * the code. Each socket or engine can still be tightened further by its user.
 */
final class RestrictedSslContext extends SSLContext {

    RestrictedSslContext(SSLContext delegate, List<String> protocols, boolean requireClientCertificate) {
        super(new Spi(delegate, new Policy(List.copyOf(protocols), requireClientCertificate)),
                delegate.getProvider(), delegate.getProtocol());
    }

    /** What every socket and engine gets: the allowed protocols, in preference order, and the client-auth rule. */
    private record Policy(List<String> protocols, boolean requireClientCertificate) {

        String[] enabledProtocols(String[] supported) {
            List<String> available = Arrays.asList(supported);
            String[] enabled = protocols.stream().filter(available::contains).toArray(String[]::new);
            if (enabled.length == 0) {
                throw new IllegalStateException("none of the protocols " + protocols + " is supported by this JDK");
            }
            return enabled;
        }

        SSLEngine apply(SSLEngine engine) {
            engine.setEnabledProtocols(enabledProtocols(engine.getSupportedProtocols()));
            if (requireClientCertificate) {
                engine.setNeedClientAuth(true);
            }
            return engine;
        }

        Socket apply(Socket socket) {
            if (socket instanceof SSLSocket ssl) {
                ssl.setEnabledProtocols(enabledProtocols(ssl.getSupportedProtocols()));
                if (requireClientCertificate) {
                    ssl.setNeedClientAuth(true);
                }
            }
            return socket;
        }

        ServerSocket apply(ServerSocket socket) {
            if (socket instanceof SSLServerSocket ssl) {
                ssl.setEnabledProtocols(enabledProtocols(ssl.getSupportedProtocols()));
                if (requireClientCertificate) {
                    ssl.setNeedClientAuth(true);
                }
            }
            return socket;
        }

        SSLParameters apply(SSLParameters parameters) {
            parameters.setProtocols(enabledProtocols(parameters.getProtocols()));
            if (requireClientCertificate) {
                parameters.setNeedClientAuth(true);
            }
            return parameters;
        }
    }

    private static final class Spi extends SSLContextSpi {
        private final SSLContext delegate;
        private final Policy policy;

        Spi(SSLContext delegate, Policy policy) {
            this.delegate = delegate;
            this.policy = policy;
        }

        @Override
        protected void engineInit(KeyManager[] keyManagers, TrustManager[] trustManagers, SecureRandom random)
                throws KeyManagementException {
            // Re-initialising would swap the key material behind the policy's back.
            throw new KeyManagementException("this context is already initialised and cannot be re-initialised");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return new SocketFactory(delegate.getSocketFactory(), policy);
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return new ServerSocketFactory(delegate.getServerSocketFactory(), policy);
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return policy.apply(delegate.createSSLEngine());
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return policy.apply(delegate.createSSLEngine(host, port));
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return policy.apply(delegate.getDefaultSSLParameters());
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return policy.apply(delegate.getSupportedSSLParameters());
        }
    }

    private static final class SocketFactory extends SSLSocketFactory {
        private final SSLSocketFactory delegate;
        private final Policy policy;

        SocketFactory(SSLSocketFactory delegate, Policy policy) {
            this.delegate = delegate;
            this.policy = policy;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return delegate.getDefaultCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return delegate.getSupportedCipherSuites();
        }

        @Override
        public Socket createSocket() throws IOException {
            return policy.apply(delegate.createSocket());
        }

        @Override
        public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
            return policy.apply(delegate.createSocket(socket, host, port, autoClose));
        }

        @Override
        public Socket createSocket(Socket socket, InputStream consumed, boolean autoClose) throws IOException {
            return policy.apply(delegate.createSocket(socket, consumed, autoClose));
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return policy.apply(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return policy.apply(delegate.createSocket(host, port, localHost, localPort));
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return policy.apply(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
            return policy.apply(delegate.createSocket(address, port, localAddress, localPort));
        }
    }

    private static final class ServerSocketFactory extends SSLServerSocketFactory {
        private final SSLServerSocketFactory delegate;
        private final Policy policy;

        ServerSocketFactory(SSLServerSocketFactory delegate, Policy policy) {
            this.delegate = delegate;
            this.policy = policy;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return delegate.getDefaultCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return delegate.getSupportedCipherSuites();
        }

        @Override
        public ServerSocket createServerSocket() throws IOException {
            return policy.apply(delegate.createServerSocket());
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return policy.apply(delegate.createServerSocket(port));
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog) throws IOException {
            return policy.apply(delegate.createServerSocket(port, backlog));
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException {
            return policy.apply(delegate.createServerSocket(port, backlog, address));
        }
    }
}
