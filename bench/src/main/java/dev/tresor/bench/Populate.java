package dev.tresor.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * Sets up a running server (made by {@code tresor init}) for a read benchmark, through the API as
 * its admin: a group, a reader client (certificate issued from the folder's CA) that is a member,
 * and N secrets of a given size granted to the group.
 *
 * <pre>
 * Populate --dir DATA --port 8443 --out DIR --count 100 --value-bytes 64 --group bench --prefix bench/s- --reader reader
 * </pre>
 */
public final class Populate {

    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private Populate() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        DataDir data = new DataDir(a.path("dir"));
        int port = a.integer("port", 8443);
        Path out = a.path("out");
        int count = a.integer("count", 100);
        int size = a.integer("value-bytes", 64);
        String group = a.string("group", "bench");
        String prefix = a.string("prefix", "bench/s-");
        String reader = a.string("reader", "reader");
        a.checkAllUsed();
        Files.createDirectories(out);
        DataDir.Credentials readerCreds = data.issueClient(reader, data.identityOf(reader), out);
        try (ApiClient admin = new ApiClient(data.endpoint(data.admin(), port))) {
            admin.ok("POST", "/v1/groups", "{\"name\":" + ApiClient.quote(group) + "}");
            admin.ok("POST", "/v1/clients", "{\"name\":" + ApiClient.quote(reader) + ",\"identity\":"
                    + ApiClient.quote(readerCreds.identity()) + "}");
            admin.ok("PUT", "/v1/groups/" + group + "/clients/" + reader, "{\"role\":\"read\"}");
            SecureRandom random = new SecureRandom();
            for (int i = 0; i < count; i++) {
                admin.ok("PUT", "/v1/secrets/" + prefix + String.format("%03d", i),
                        "{\"value\":" + ApiClient.quote(randomText(random, size)) + ",\"groups\":[" + ApiClient.quote(group) + "]}");
            }
        }
        System.out.println("populated " + count + " secrets of " + size + " bytes; reader credentials in " + out);
    }

    static String randomText(SecureRandom random, int size) {
        StringBuilder b = new StringBuilder(size);
        for (int i = 0; i < size; i++) {
            b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return b.toString();
    }
}
