package dev.tresor.ca;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;

/**
 * Client identities: a SPIFFE ID ({@code spiffe://trust.domain/some/path}) carried as a URI SAN,
 * or, for clients without one, a plain subject CN.
 *
 * <p>Identities are compared as exact strings by the access layer, so the rules here are
 * deliberately narrow: one spelling per identity (lowercase scheme and trust domain, no
 * percent-encoding, no {@code .}/{@code ..} segments, no query, fragment, userinfo or port).
 * Anything that could be spelled two ways could be used to slip past an allow list.
 */
public final class Identities {

    /** The only URI scheme accepted for identities. */
    public static final String SPIFFE_SCHEME_PREFIX = "spiffe://";
    /** Longest accepted URI identity (the SPIFFE limit for an ID). */
    public static final int MAX_URI_IDENTITY_LENGTH = 2048;
    /** Longest accepted CN identity (the X.520 upper bound for a common name). */
    public static final int MAX_CN_IDENTITY_LENGTH = 64;
    /** Longest accepted trust domain (a DNS name). */
    public static final int MAX_TRUST_DOMAIN_LENGTH = 253;

    private static final int SAN_TYPE_URI = 6;
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern PATH_SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern CN_IDENTITY = Pattern.compile("[A-Za-z0-9._@-]+");

    private Identities() {}

    /**
     * The identity a certificate proves: its URI SAN if it has one, otherwise its subject CN.
     * The result is validated with {@link #validateIdentity(String)}.
     *
     * @throws IllegalArgumentException if the certificate has neither, more than one URI SAN or
     *     more than one CN (ambiguous: which one would an allow list be checked against?), or if
     *     the identity is malformed
     */
    public static String identityOf(X509Certificate certificate) {
        if (certificate == null) {
            throw new IllegalArgumentException("no certificate");
        }
        List<String> uris = uriSans(certificate);
        if (uris.size() > 1) {
            // SPIFFE X509-SVIDs carry exactly one URI SAN; two would make the identity ambiguous.
            throw new IllegalArgumentException("certificate " + describe(certificate) + " has " + uris.size()
                    + " URI subject alternative names; an identity certificate must have exactly one");
        }
        String identity = uris.isEmpty() ? commonName(certificate)
                .orElseThrow(() -> new IllegalArgumentException("certificate " + describe(certificate)
                        + " has neither a URI subject alternative name nor a subject CN, so it names no identity"))
                : uris.getFirst();
        // A URI identity comes from the URI SAN only: a CN that reads "spiffe://…" is not one.
        Optional<String> problem = uris.isEmpty() ? commonNameProblem(identity) : identityProblem(identity);
        if (problem.isPresent()) {
            throw new IllegalArgumentException("certificate " + describe(certificate) + " carries an invalid identity: "
                    + problem.get());
        }
        return identity;
    }

    /**
     * Whether an identity is written in URI form. CN identities cannot contain {@code ':'}, so any
     * colon means the caller meant a URI (which must then be a valid {@code spiffe://} ID).
     */
    public static boolean isUri(String identity) {
        return identity != null && identity.indexOf(':') >= 0;
    }

    /**
     * Checks an identity and returns it unchanged.
     *
     * @throws IllegalArgumentException with a message saying what is wrong
     */
    public static String validateIdentity(String identity) {
        identityProblem(identity).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        return identity;
    }

    /** What is wrong with an identity, or empty if it is valid. Never throws. */
    public static Optional<String> identityProblem(String identity) {
        if (identity == null || identity.isEmpty()) {
            return Optional.of("identity is empty");
        }
        return isUri(identity) ? uriProblem(identity) : commonNameProblem(identity);
    }

    /**
     * Checks a SPIFFE trust domain (a lowercase DNS-like name such as {@code tresor.local}) and
     * returns it unchanged.
     *
     * @throws IllegalArgumentException with a message saying what is wrong
     */
    public static String validateTrustDomain(String trustDomain) {
        trustDomainProblem(trustDomain).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        return trustDomain;
    }

    /** The trust domain of a valid URI identity, e.g. {@code tresor.local}. */
    public static String trustDomainOf(String uriIdentity) {
        validateIdentity(uriIdentity);
        if (!isUri(uriIdentity)) {
            throw new IllegalArgumentException("identity '" + uriIdentity + "' is a CN, not a URI; it has no trust domain");
        }
        String rest = uriIdentity.substring(SPIFFE_SCHEME_PREFIX.length());
        return rest.substring(0, rest.indexOf('/'));
    }

    /** The last path segment of a valid URI identity, or the identity itself for a CN identity. */
    static String shortName(String identity) {
        return isUri(identity) ? identity.substring(identity.lastIndexOf('/') + 1) : identity;
    }

    static Optional<String> trustDomainProblem(String trustDomain) {
        if (trustDomain == null || trustDomain.isEmpty()) {
            return Optional.of("trust domain is empty");
        }
        if (trustDomain.length() > MAX_TRUST_DOMAIN_LENGTH) {
            return Optional.of("trust domain is longer than " + MAX_TRUST_DOMAIN_LENGTH + " characters");
        }
        if (!trustDomain.equals(trustDomain.toLowerCase(java.util.Locale.ROOT))) {
            return Optional.of("trust domain '" + printable(trustDomain) + "' must be lowercase");
        }
        for (String label : trustDomain.split("\\.", -1)) {
            if (!DNS_LABEL.matcher(label).matches()) {
                return Optional.of("trust domain '" + printable(trustDomain) + "' is not a DNS-like name: labels of"
                        + " 1-63 characters [a-z0-9-], not starting or ending with '-', separated by single dots");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> uriProblem(String identity) {
        String shown = printable(identity);
        if (identity.length() > MAX_URI_IDENTITY_LENGTH) {
            return Optional.of("URI identity is longer than " + MAX_URI_IDENTITY_LENGTH + " characters");
        }
        if (!identity.startsWith(SPIFFE_SCHEME_PREFIX)) {
            return Optional.of("URI identity '" + shown + "' must start with " + SPIFFE_SCHEME_PREFIX
                    + " (lowercase), e.g. spiffe://tresor.local/ns/app/sa/app");
        }
        // Specific messages for the URI parts that SPIFFE IDs must not have.
        if (identity.indexOf('?') >= 0) {
            return Optional.of("URI identity '" + shown + "' must not have a query ('?')");
        }
        if (identity.indexOf('#') >= 0) {
            return Optional.of("URI identity '" + shown + "' must not have a fragment ('#')");
        }
        if (identity.indexOf('%') >= 0) {
            return Optional.of("URI identity '" + shown + "' must not use percent-encoding ('%')");
        }
        String rest = identity.substring(SPIFFE_SCHEME_PREFIX.length());
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        if (authority.indexOf('@') >= 0) {
            return Optional.of("URI identity '" + shown + "' must not have userinfo ('@')");
        }
        if (authority.indexOf(':') >= 0) {
            return Optional.of("URI identity '" + shown + "' must not have a port (':')");
        }
        Optional<String> domainProblem = trustDomainProblem(authority);
        if (domainProblem.isPresent()) {
            return Optional.of("URI identity '" + shown + "': " + domainProblem.get());
        }
        if (slash < 0 || slash == rest.length() - 1) {
            return Optional.of("URI identity '" + shown + "' must have a path after the trust domain,"
                    + " e.g. spiffe://" + authority + "/ns/app/sa/app");
        }
        for (String segment : rest.substring(slash + 1).split("/", -1)) {
            if (segment.isEmpty()) {
                return Optional.of("URI identity '" + shown + "' has an empty path segment ('//' or a trailing '/')");
            }
            if (segment.equals(".") || segment.equals("..")) {
                return Optional.of("URI identity '" + shown + "' must not have '.' or '..' path segments");
            }
            if (!PATH_SEGMENT.matcher(segment).matches()) {
                return Optional.of("URI identity '" + shown + "' has path segment '" + printable(segment)
                        + "'; path segments may only contain [A-Za-z0-9._-]");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> commonNameProblem(String identity) {
        if (identity.length() > MAX_CN_IDENTITY_LENGTH) {
            return Optional.of("CN identity is longer than " + MAX_CN_IDENTITY_LENGTH + " characters");
        }
        if (!CN_IDENTITY.matcher(identity).matches()) {
            return Optional.of("CN identity '" + printable(identity)
                    + "' may only contain [A-Za-z0-9._@-] (use a spiffe:// URI for structured identities)");
        }
        return Optional.empty();
    }

    static List<String> uriSans(X509Certificate certificate) {
        Collection<List<?>> sans;
        try {
            sans = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("certificate " + describe(certificate)
                    + " has an unreadable subject alternative name extension: " + e.getMessage(), e);
        }
        List<String> uris = new ArrayList<>();
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(SAN_TYPE_URI).equals(san.get(0))
                        && san.get(1) instanceof String uri) {
                    uris.add(uri);
                }
            }
        }
        return uris;
    }

    /** The subject CN, if there is exactly one; more than one is refused as ambiguous. */
    static Optional<String> commonName(X509Certificate certificate) {
        X500Name subject;
        try {
            subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("certificate has an unreadable subject: " + e.getMessage(), e);
        }
        List<String> commonNames = new ArrayList<>();
        for (RDN rdn : subject.getRDNs()) {
            for (AttributeTypeAndValue attribute : rdn.getTypesAndValues()) {
                if (BCStyle.CN.equals(attribute.getType())) {
                    ASN1Encodable value = attribute.getValue();
                    if (!(value instanceof ASN1String text)) {
                        throw new IllegalArgumentException("certificate subject CN is not a string");
                    }
                    commonNames.add(text.getString());
                }
            }
        }
        if (commonNames.size() > 1) {
            throw new IllegalArgumentException("certificate subject '" + printable(certificate.getSubjectX500Principal().getName())
                    + "' has " + commonNames.size() + " CNs; an identity certificate must have exactly one");
        }
        return commonNames.stream().findFirst();
    }

    static String describe(X509Certificate certificate) {
        return "'" + printable(certificate.getSubjectX500Principal().getName()) + "' (serial "
                + certificate.getSerialNumber().toString(16) + ")";
    }

    /** Keeps error messages readable and single-line when echoing untrusted input. */
    static String printable(String untrusted) {
        StringBuilder out = new StringBuilder();
        int limit = Math.min(untrusted.length(), 120);
        for (int i = 0; i < limit; i++) {
            char c = untrusted.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (untrusted.length() > limit) {
            out.append("...");
        }
        return out.toString();
    }
}
