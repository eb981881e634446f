package dev.tresor.crypto;

import java.security.GeneralSecurityException;

/**
 * The KEK's provider (an HSM, a KMS) could not do the operation just now: not reachable,
 * throttling, or refusing access. Unlike a failed tag check it says nothing about the data, so a
 * caller fails only the operation that needed the KEK (503) and changes nothing; reads, which use
 * the keyring in memory, go on.
 */
public class KekUnavailableException extends GeneralSecurityException {

    public KekUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
