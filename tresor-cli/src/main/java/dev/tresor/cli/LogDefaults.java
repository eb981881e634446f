package dev.tresor.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.tresor.server.config.ServerSettings;

/**
 * Logback's configuration until a server config says otherwise: text on stderr, Tresor at info,
 * libraries at warn. Found by logback through the service loader, so no XML is parsed at start.
 * Client commands log nothing, so they never reach this.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogDefaults extends ContextAwareBase implements Configurator {

    public LogDefaults() {
        // for the service loader
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        ServerLogging.apply(context, ServerSettings.Logging.DEFAULT);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
