package dev.tresor.agent.cli;

import java.util.function.Consumer;

/**
 * SIGTERM and SIGINT as events instead of the JVM's default exit: exec mode must pass them to the
 * app and exit with the app's code, and the watch loop must stop cleanly. {@code sun.misc.Signal}
 * (module jdk.unsupported) is the only way the JDK offers; it is supported for exactly this use.
 */
@SuppressWarnings("sunapi")
final class ProcessSignals {

    private ProcessSignals() {}

    static void onTermination(Consumer<String> handler) {
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> handler.accept(name));
        }
    }
}
