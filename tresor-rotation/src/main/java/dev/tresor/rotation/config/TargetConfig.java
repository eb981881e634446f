package dev.tresor.rotation.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The database side of a rotation.
 *
 * @param kind     mariadb, mysql or postgresql
 * @param tlsMode  TLS for every database connection (default require)
 * @param tlsCa    CA certificate (PEM) for verify-ca / verify-full, or null
 * @param userHost MariaDB/MySQL host part of the slot users ({@code %} by default); unused for PostgreSQL
 * @param role     the role both slot users get: MariaDB a role granted to both (their default role),
 *                 PostgreSQL the owning role both are members of (and switch to at login), so objects
 *                 never belong to one slot
 * @param grants   the declared privileges of {@code role}: least privilege, nothing global
 */
public record TargetConfig(TargetKind kind, TlsMode tlsMode, Path tlsCa, String userHost, String role, List<Grant> grants) {

    public TargetConfig {
        grants = List.copyOf(grants);
    }
}
