package dev.tresor.rotation.config;

import java.util.List;

/**
 * Privileges the application role gets. MariaDB/MySQL: {@code on} is {@code *} (every table of the
 * slot's database) or one table name. PostgreSQL: {@code database}, {@code schema NAME},
 * {@code all tables in schema NAME} or {@code all sequences in schema NAME}.
 */
public record Grant(List<String> privileges, String on) {

    public Grant {
        privileges = List.copyOf(privileges);
    }
}
