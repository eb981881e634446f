package dev.tresor.model;

import java.time.Instant;
import java.util.List;

/** A client as shown to admins and to itself ({@code whoami}). {@code intact} is false if its rows failed integrity checks. */
public record ClientView(String name, String identity, boolean admin, boolean enabled, List<MembershipView> groups,
                         Instant createdAt, String createdBy, boolean intact) {

    public record MembershipView(String group, String role) {}
}
