package dev.tresor.mesh.check;

/** IPv4 CIDR containment, the one address operation both egress layers need. */
final class Cidrs {

    private Cidrs() {}

    static long[] parse(String cidr) {
        String[] parts = cidr.split("/", -1);
        if (parts.length != 2) throw new IllegalArgumentException("not a CIDR: " + cidr);
        String[] octets = parts[0].split("\\.", -1);
        if (octets.length != 4) throw new IllegalArgumentException("not an IPv4 CIDR: " + cidr);
        long address = 0;
        for (String o : octets) {
            int v = Integer.parseInt(o);
            if (v < 0 || v > 255) throw new IllegalArgumentException("not an IPv4 CIDR: " + cidr);
            address = (address << 8) | v;
        }
        int prefix = Integer.parseInt(parts[1]);
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("not an IPv4 CIDR: " + cidr);
        return new long[] {address, prefix};
    }

    /** Whether every address of {@code inner} is in {@code outer}. */
    static boolean contains(String outer, String inner) {
        long[] o = parse(outer), i = parse(inner);
        if (i[1] < o[1]) return false;
        long mask = o[1] == 0 ? 0 : (0xFFFFFFFFL << (32 - o[1])) & 0xFFFFFFFFL;
        return (o[0] & mask) == (i[0] & mask);
    }

    /**
     * Whether a rule's CIDR covers an external destination. A DNS name may resolve to any address,
     * so only a block of all addresses is known to cover it.
     */
    static boolean covers(String ruleCidr, Endpoint destination) {
        if (destination.cidr() != null) return contains(ruleCidr, destination.cidr());
        return parse(ruleCidr)[1] == 0;
    }
}
