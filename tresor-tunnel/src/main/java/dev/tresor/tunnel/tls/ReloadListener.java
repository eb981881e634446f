package dev.tresor.tunnel.tls;

/** Told about every reload of a watched file, good or bad (for logs and metrics). */
public interface ReloadListener {

    /** {@code what} is "certificate", "trust bundle" or "crl". */
    void reloaded(String what, String detail);

    /** The new content was refused; the last good one stays in use. */
    void reloadFailed(String what, String error);

    ReloadListener NONE = new ReloadListener() {
        @Override
        public void reloaded(String what, String detail) {
        }

        @Override
        public void reloadFailed(String what, String error) {
        }
    };
}
