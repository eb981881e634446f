package dev.tresor.crypto;

import java.nio.file.Path;
import java.util.Map;

/**
 * Started by {@link Pkcs11KeyProviderTest} as its own JVM, because a PKCS#11 login holds for the
 * whole process: once any test logged in, the token accepts every later login. A fresh process
 * is also what a server start is. Arguments: library, slot, key label, then PIN sources
 * ({@code file:PATH} or {@code env:NAME=VALUE}); prints one line per source, "opened KEYID" or
 * "refused MESSAGE", in order.
 */
public final class Pkcs11OpenChild {

    private Pkcs11OpenChild() {}

    public static void main(String[] args) {
        Pkcs11KeyProvider.Settings settings = new Pkcs11KeyProvider.Settings(Path.of(args[0]), Long.parseLong(args[1]),
                null, args[2]);
        for (int i = 3; i < args.length; i++) {
            Pkcs11KeyProvider.Pin pin;
            Map<String, String> environment;
            if (args[i].startsWith("file:")) {
                pin = Pkcs11KeyProvider.Pin.fromFile(Path.of(args[i].substring(5)));
                environment = Map.of();
            } else {
                String[] nameValue = args[i].substring(4).split("=", 2);
                pin = Pkcs11KeyProvider.Pin.fromEnvironment(nameValue[0]);
                environment = nameValue.length == 2 ? Map.of(nameValue[0], nameValue[1]) : Map.of();
            }
            try {
                System.out.println("opened " + Pkcs11KeyProvider.open(settings, pin, environment).keyId());
            } catch (IllegalStateException | IllegalArgumentException e) {
                System.out.println("refused " + e.getMessage().replace('\n', ' '));
            }
        }
    }
}
