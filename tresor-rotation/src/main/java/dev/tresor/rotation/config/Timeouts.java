package dev.tresor.rotation.config;

import java.time.Duration;

/**
 * @param connect  database connect/login timeout
 * @param appReady how long to wait for every http-check to answer its expected status after delivery
 * @param drain    grace time after the flip before the old slot's password changes (for connections
 *                 the application opened with credentials it read just before the switch)
 */
public record Timeouts(Duration connect, Duration appReady, Duration drain) {}
