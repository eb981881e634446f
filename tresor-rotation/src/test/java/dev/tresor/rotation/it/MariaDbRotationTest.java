package dev.tresor.rotation.it;

/** Every rotation scenario against a real MariaDB (Debian's mariadbd) over TLS. */
class MariaDbRotationTest extends RotationScenarios {

    @Override
    TestDatabase startDatabase() throws Exception {
        return MariaDbServer.start();
    }
}
