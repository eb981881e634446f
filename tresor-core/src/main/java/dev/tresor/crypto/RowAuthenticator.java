package dev.tresor.crypto;

import com.google.crypto.tink.Mac;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * Computes and checks the MAC that every access-deciding row carries. The MAC key is wrapped by
 * the KEK, so someone with write access to the database but not the KEK cannot produce a row
 * that verifies. Verification is constant-time (Tink's {@code verifyMac}).
 */
public final class RowAuthenticator {

    private final Mac mac;

    public RowAuthenticator(Mac mac) {
        this.mac = mac;
    }

    public byte[] mac(Canonical row) {
        try {
            return mac.computeMac(row.toBytes());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("row MAC computation failed", e);
        }
    }

    public boolean verify(Canonical row, byte[] tag) {
        if (tag == null || tag.length == 0) {
            return false;
        }
        try {
            mac.verifyMac(tag, row.toBytes());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** A keyed digest of a set (callers pass canonical, sorted content): binds a set into its owner row. */
    public byte[] digest(Canonical set) {
        return mac(set);
    }

    public static boolean constantTimeEquals(byte[] a, byte[] b) {
        return a != null && b != null && MessageDigest.isEqual(a, b);
    }
}
