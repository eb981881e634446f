package dev.tresor.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.tresor.server.config.ServerSettings;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The process's logging, set up from the server config: text or JSON lines on stderr (stdout
 * carries only what a command prints on purpose), Tresor's own loggers at {@code logging.level},
 * libraries at warn, and the levels the config names. Every line of a request carries its
 * request id (the {@code requestId} MDC key; a field of {@code mdc} in JSON).
 */
final class ServerLogging {

    /** Libraries are quiet unless asked; Jetty never below info (its debug output holds raw request bytes). */
    private static final Map<String, String> LIBRARY_LEVELS = Map.of(
            "org.eclipse.jetty", "warn",
            "org.flywaydb", "warn",
            "com.zaxxer.hikari", "warn",
            // The MariaDB driver logs every refused login at WARN; tresor rotate probes passwords on purpose.
            "org.mariadb.jdbc", "error");

    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level %logger{0}"
            + "%replace( [request %X{requestId}]){' \\[request \\]', ''} - %msg%n";

    private ServerLogging() {}

    /** Applies {@code settings} to this process's logback context (replacing the defaults). */
    static void apply(ServerSettings.Logging settings) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            apply(context, settings);
        }
    }

    static void apply(LoggerContext context, ServerSettings.Logging settings) {
        context.reset();
        Encoder<ILoggingEvent> encoder;
        if (settings.json()) {
            JsonEncoder json = new JsonEncoder();
            json.setContext(context);
            // One readable message per line ("formattedMessage"), not the pattern and its arguments apart.
            json.setWithFormattedMessage(true);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.setWithContext(false);
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.start();
            encoder = json;
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setContext(context);
            text.setPattern(TEXT_PATTERN);
            text.start();
            encoder = text;
        }
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("stderr");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(stderr);
        root.setLevel(Level.WARN);
        Map<String, String> levels = new LinkedHashMap<>(LIBRARY_LEVELS);
        levels.put("dev.tresor", settings.level());
        levels.putAll(settings.levels());
        levels.forEach((name, level) -> context.getLogger(name).setLevel(Level.toLevel(level, Level.INFO)));
        // The loader refuses debug for Jetty; this keeps it so for a root level too.
        Logger jetty = context.getLogger("org.eclipse.jetty");
        if (jetty.getLevel().toInt() < Level.INFO_INT) {
            jetty.setLevel(Level.INFO);
        }
    }
}
