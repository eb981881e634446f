package dev.tresor.agent.config;

import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** One thing the agent renders: a secret's raw value, or a template over several secrets. */
public sealed interface Output permits Output.Raw, Output.Template {

    FileOptions options();

    /** The secrets it is made of, by the template variable that names each (a raw file has one, "value"). */
    Map<String, Binding> bindings();

    /** The names of the secrets it reads (a change to any of them re-renders it). */
    default Set<String> secretNames() {
        return bindings().values().stream().map(b -> b.ref().name()).collect(Collectors.toUnmodifiableSet());
    }

    /** A secret a template reads as {@code variable}: as text, or parsed as JSON ({@code as: json}). */
    record Binding(SecretRef ref, boolean json) {}

    /** The secret's value byte for byte. */
    record Raw(SecretRef ref, FileOptions options) implements Output {
        @Override
        public Map<String, Binding> bindings() {
            return Map.of("value", new Binding(ref, false));
        }
    }

    /** A Pebble template; {@code where} names it in errors (the config field or template file). */
    record Template(String source, String where, Map<String, Binding> bindings, FileOptions options) implements Output {
        public Template {
            bindings = Map.copyOf(bindings);
        }
    }
}
