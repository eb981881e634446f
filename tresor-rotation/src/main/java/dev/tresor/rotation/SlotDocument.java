package dev.tresor.rotation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;

/**
 * The slot secret's value: which slot the application uses and both slots' logins, as JSON
 * {@code {"active_slot":"A","A":{"username":..,"password":..,"host":..,"port":..,"dbname":..},"B":{..}}}.
 */
public record SlotDocument(Slot activeSlot, Map<Slot, DbCredentials> slots) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public SlotDocument {
        slots = Map.copyOf(new EnumMap<>(slots));
    }

    public DbCredentials get(Slot slot) {
        return slots.get(slot);
    }

    public DbCredentials active() {
        return slots.get(activeSlot);
    }

    public Slot standby() {
        return activeSlot.other();
    }

    public SlotDocument with(Slot slot, DbCredentials credentials) {
        Map<Slot, DbCredentials> copy = new EnumMap<>(slots);
        copy.put(slot, credentials);
        return new SlotDocument(activeSlot, copy);
    }

    public SlotDocument withActive(Slot slot) {
        return new SlotDocument(slot, slots);
    }

    /** Parses and validates a slot secret; {@code where} names it in errors (never the value). */
    public static SlotDocument parse(byte[] value, String where) {
        JsonNode root = tree(value, where);
        Slot active = Slot.parse(where + " field active_slot", text(root, "active_slot"));
        Map<Slot, DbCredentials> slots = new EnumMap<>(Slot.class);
        for (Slot slot : Slot.values()) {
            JsonNode node = root.get(slot.name());
            if (node == null || !node.isObject()) {
                throw new RotationException(RotationException.Kind.STATE, where + " has no object for slot " + slot
                        + "; it must look like {\"active_slot\":\"A\",\"A\":{\"username\":..},\"B\":{..}}");
            }
            slots.put(slot, credentials(node, where + " field " + slot.name()));
        }
        if (slots.get(Slot.A).username().equals(slots.get(Slot.B).username())) {
            throw new RotationException(RotationException.Kind.STATE, where + ": slots A and B must use two different"
                    + " database users (both are '" + slots.get(Slot.A).username() + "')");
        }
        return new SlotDocument(active, slots);
    }

    /** Parses and validates a single login (the admin secret). */
    public static DbCredentials parseCredentials(byte[] value, String where) {
        return credentials(tree(value, where), where);
    }

    private static JsonNode tree(byte[] value, String where) {
        try {
            JsonNode root = JSON.readTree(value);
            if (root == null || !root.isObject()) {
                throw new RotationException(RotationException.Kind.STATE, where + " is not a JSON object");
            }
            return root;
        } catch (IOException e) {
            // Jackson's message may quote the value: say only where it broke.
            throw new RotationException(RotationException.Kind.STATE, where + " is not valid JSON");
        }
    }

    private static DbCredentials credentials(JsonNode node, String where) {
        JsonNode port = node.get("port");
        int portNumber;
        if (port == null || port.isNull()) {
            portNumber = -1;
        } else if (port.canConvertToInt()) {
            portNumber = port.asInt();
        } else {
            try {
                portNumber = Integer.parseInt(port.asText().trim());
            } catch (NumberFormatException e) {
                portNumber = -1;
            }
        }
        return new DbCredentials(text(node, "username"), text(node, "password"), text(node, "host"), portNumber,
                text(node, "dbname")).validated(where);
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("active_slot", activeSlot.name());
        for (Slot slot : Slot.values()) {
            root.set(slot.name(), node(slots.get(slot)));
        }
        return write(root);
    }

    public static byte[] toJson(DbCredentials credentials) {
        return write(node(credentials));
    }

    private static ObjectNode node(DbCredentials c) {
        ObjectNode node = JSON.createObjectNode();
        node.put("username", c.username());
        node.put("password", c.password());
        node.put("host", c.host());
        node.put("port", c.port());
        node.put("dbname", c.dbname());
        return node;
    }

    private static byte[] write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode JSON", e);
        }
    }

    @Override
    public String toString() {
        return "SlotDocument[active=" + activeSlot + ", A=" + slots.get(Slot.A) + ", B=" + slots.get(Slot.B) + "]";
    }
}
