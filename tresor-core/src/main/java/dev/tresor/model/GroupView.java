package dev.tresor.model;

import java.time.Instant;
import java.util.List;

/** A group; {@code clients} and {@code secrets} are filled only when one group is shown. */
public record GroupView(String name, String description, Instant createdAt, String createdBy, boolean intact,
                        List<GroupView.Member> clients, List<String> secrets) {

    /** One member of the group and the role its membership carries. */
    public record Member(String client, String role) {}
}
