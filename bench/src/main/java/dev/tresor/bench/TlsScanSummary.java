package dev.tresor.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Turns testssl.sh's JSON findings into docs/tls-scan.md: protocols, cipher suites, the
 * vulnerability checks, and anything rated LOW or worse.
 *
 * <pre>TlsScanSummary SCAN.json OUT.md VERSION NO_CERT_HANDSHAKE NO_CERT_HTTP MACHINE</pre>
 */
public final class TlsScanSummary {

    private static final Set<String> PROTOCOL_IDS = Set.of("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3");

    private TlsScanSummary() {}

    public static void main(String[] argv) throws Exception {
        JsonNode scan = new ObjectMapper().readTree(Path.of(argv[0]).toFile());
        JsonNode findings = scan.isArray() ? scan : scan.path("scanResult");
        StringBuilder md = new StringBuilder("# TLS scan of the API port\n\n");
        md.append("Made by `bench/tls-scan.sh`: ").append(argv[2]).append(" (Debian package) against `tresor server` from a fresh "
                + "`tresor init` folder, default configuration (`tls.protocols: [TLSv1.3, TLSv1.2]`), on 127.0.0.1. This "
                + "testssl.sh version cannot present a client certificate, so its HTTP-level checks (headers) do not run; "
                + "protocols, cipher suites and the vulnerability checks work on the handshake. Full output: "
                + "`bench/results/tls-scan.txt`. Machine: ").append(argv[5]).append("\n\n");
        md.append("## Protocols\n\n| protocol | result |\n|---|---|\n");
        for (JsonNode f : findings) {
            if (PROTOCOL_IDS.contains(f.path("id").asText())) {
                md.append("| ").append(f.path("id").asText()).append(" | ").append(f.path("finding").asText()).append(" |\n");
            }
        }
        md.append("\n## Cipher suites offered\n\n");
        for (JsonNode f : findings) {
            String id = f.path("id").asText();
            if (id.startsWith("cipher-tls") || id.startsWith("cipherorder_") || id.equals("cipher_order")
                    || id.startsWith("supportedciphers_") || id.startsWith("cipherlist_")) {
                md.append("- `").append(id).append("`: ").append(f.path("finding").asText()).append(" (").append(f.path("severity").asText()).append(")\n");
            }
        }
        java.util.List<String> notAead = new java.util.ArrayList<>();
        for (JsonNode f : findings) {
            String finding = f.path("finding").asText();
            if (f.path("id").asText().startsWith("cipher-tls") && !finding.contains("AESGCM") && !finding.contains("ChaCha20")) {
                notAead.add(finding.replaceAll("\\s+", " ").strip());
            }
        }
        md.append("\n**AEAD suites only: ").append(notAead.isEmpty() ? "yes**.\n" : "NO** — also offered: ");
        for (String n : notAead) {
            md.append("`").append(n).append("`; ");
        }
        md.append(notAead.isEmpty() ? "" : "(CBC with HMAC, TLS 1.2 only).\n");
        md.append("\n## Key exchange, certificate and client authentication\n\n");
        for (JsonNode f : findings) {
            String id = f.path("id").asText();
            if (List.of("FS", "FS_ECDHE_curves", "FS_TLS12_sig_algs", "FS_TLS13_sig_algs", "clientAuth", "TLS_session_ticket",
                    "sessionresumption_ticket", "sessionresumption_ID", "cert_keySize", "cert_signatureAlgorithm",
                    "secure_renego", "secure_client_renego", "HSTS", "ALPN", "TLS_extensions").contains(id)) {
                md.append("- `").append(id).append("`: ").append(f.path("finding").asText()).append("\n");
            }
        }
        md.append("\nWithout a client certificate (`openssl s_client -CAfile ca.crt`, no `-cert`, then an HTTP request), what "
                + "came back: ").append("`").append(argv[3].replace("\n", " | ")).append("`; `").append(argv[4].replace("\n", " | "))
                .append("` (no HTTP answer in either).\n");
        md.append("\n## Vulnerability checks\n\n| check | result | severity |\n|---|---|---|\n");
        Set<String> vulns = Set.of("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS",
                "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "winshock", "RC4",
                "opossum");
        for (JsonNode f : findings) {
            if (vulns.contains(f.path("id").asText())) {
                md.append("| ").append(f.path("id").asText()).append(" | ").append(f.path("finding").asText()).append(" | ")
                        .append(f.path("severity").asText()).append(" |\n");
            }
        }
        md.append("\n## Everything rated LOW or worse\n\n");
        int n = 0;
        for (JsonNode f : findings) {
            String sev = f.path("severity").asText();
            if (Set.of("LOW", "MEDIUM", "HIGH", "CRITICAL").contains(sev)) {
                md.append("- **").append(sev).append("** `").append(f.path("id").asText()).append("`: ").append(f.path("finding").asText()).append("\n");
                n++;
            }
        }
        if (n == 0) {
            md.append("None.\n");
        }
        Files.writeString(Path.of(argv[1]), md.toString(), StandardCharsets.UTF_8);
        System.out.println(md);
    }
}
