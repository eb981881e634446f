package dev.tresor.rotation.it;

/** Every rotation scenario against a real PostgreSQL 18 over TLS (application roles may only use TLS). */
class PostgresRotationTest extends RotationScenarios {

    @Override
    TestDatabase startDatabase() throws Exception {
        return PostgresServer.start();
    }
}
