package dev.tresor.testkit.kms;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the local KMS is told to get wrong, for the next requests: refuse access (as an IAM policy
 * without the permission would), or throttle (a number of requests, or every one). Per server.
 */
final class KmsFaults {

    static final int ALWAYS = Integer.MAX_VALUE;

    private final AtomicBoolean denyAccess = new AtomicBoolean();
    private final AtomicInteger throttle = new AtomicInteger();

    void denyAccess(boolean deny) {
        denyAccess.set(deny);
    }

    void throttle(int requests) {
        throttle.set(requests);
    }

    /** The fault for this request (signed right, for an operation {@code operation}), or null. */
    KmsError next(String operation, String resource) {
        if (denyAccess.get()) {
            return new KmsError(400, "AccessDeniedException", "User: arn:aws:iam::111122223333:user/tresor-test is not "
                    + "authorized to perform: kms:" + operation + " on resource: " + resource
                    + " because no identity-based policy allows the kms:" + operation + " action");
        }
        int left = throttle.getAndUpdate(n -> n == ALWAYS || n == 0 ? n : n - 1);
        if (left > 0) {
            return new KmsError(400, "ThrottlingException", "Rate exceeded");
        }
        return null;
    }
}
