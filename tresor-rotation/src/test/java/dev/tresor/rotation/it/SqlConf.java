package dev.tresor.rotation.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What OpenEMR reads from sites/default/sqlconf.php: the PHP variables the example template sets. */
record SqlConf(String host, String port, String login, String pass, String dbase) {

    private static final Pattern ASSIGNMENT = Pattern.compile("\\$(host|port|login|pass|dbase)\\s*=\\s*'((?:[^'\\\\]|\\\\.)*)'\\s*;");

    static SqlConf read(Path file) throws IOException {
        String text = Files.readString(file);
        Map<String, String> values = new HashMap<>();
        Matcher m = ASSIGNMENT.matcher(text);
        while (m.find()) {
            values.put(m.group(1), m.group(2).replace("\\'", "'").replace("\\\\", "\\"));
        }
        if (values.size() != 5) {
            throw new IllegalStateException(file + " lacks some of $host $port $login $pass $dbase");
        }
        return new SqlConf(values.get("host"), values.get("port"), values.get("login"), values.get("pass"), values.get("dbase"));
    }

    @Override
    public String toString() {
        return "SqlConf[" + login + "@" + host + ":" + port + "/" + dbase + "]";
    }
}
