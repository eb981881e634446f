package dev.tresor.integrity;

/**
 * Told about every row that fails its integrity check, so the server can count it, log it and
 * write an audit record. {@code subject} names the row ("client alice"); never a value.
 */
@FunctionalInterface
public interface IntegrityMonitor {

    void violation(String subject, String detail);

    IntegrityMonitor NONE = (subject, detail) -> {};
}
