package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code -o json|yaml|table} and its shorthand {@code --json}, on every command that prints an
 * answer: the human form by default, or the server's answer as JSON or YAML for scripts.
 */
final class OutputOption {

    enum Format { TABLE, TEXT, JSON, YAML }

    @Option(names = "--json", description = "Print the answer as JSON (the same as -o json).")
    private boolean json;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT",
            description = "How to print: table or text (for people; the default), json or yaml.")
    private Format format;

    Format chosen() {
        if (json && format != null && format != Format.JSON) {
            throw CliException.usage("--json and -o " + format.name().toLowerCase(Locale.ROOT) + " disagree; give one of them");
        }
        return json ? Format.JSON : format == null ? Format.TABLE : format;
    }

    /** True for JSON and YAML: print the answer itself, not the human form. */
    boolean structured() {
        Format chosen = chosen();
        return chosen == Format.JSON || chosen == Format.YAML;
    }

    /** The end of a command that did something: one line for people, or the answer as JSON/YAML. */
    int report(PrintStream out, JsonNode answer, String human) {
        if (structured()) {
            print(out, answer == null || answer.isMissingNode() ? Json.object() : answer);
        } else {
            out.println(human);
        }
        return ExitCodes.OK;
    }

    void print(PrintStream out, JsonNode answer) {
        out.println(chosen() == Format.YAML ? Json.yaml(answer) : Json.pretty(answer));
    }
}
