package dev.tresor.model;

import java.time.Instant;
import java.util.List;

/** A group; {@code clients} and {@code secrets} are filled only when one group is shown. */
public record GroupView(String name, String description, Instant createdAt, String createdBy, boolean intact,
                        List<ClientView.MembershipView> clients, List<String> secrets) {}
