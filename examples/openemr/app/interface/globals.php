<?php
// What OpenEMR's interface/globals.php does for this demo: on every request, include
// sites/default/sqlconf.php (rendered by `tresor agent` into a memory-backed folder; the symlink in
// sites/default points there), open PDO to MariaDB through the local `tresor tunnel client` port,
// and keep PHP sessions in Redis (through its tunnel) with the password the agent rendered.
// Nothing is cached between requests, so a rotated password or a flipped slot is picked up by the
// next request without a restart.
declare(strict_types=1);

// Turn every warning into an exception: a failed Redis AUTH or a refused connection must fail the
// request loudly (HTTP 5xx), never pass silently with an empty session.
set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $severity, $file, $line);
});
set_exception_handler(static function (Throwable $e): void {
    if (!headers_sent()) {
        http_response_code(503);
        header('Content-Type: text/plain');
    }
    // The message names what failed (e.g. SQLSTATE[HY000] [1045] Access denied for user ...), never a password.
    echo 'error: ' . get_class($e) . ': ' . $e->getMessage() . "\n";
    error_log('openemr-demo: ' . $_SERVER['REQUEST_URI'] . ': ' . $e->getMessage());
});

$site = dirname(__DIR__) . '/sites/default';
// require (not require_once: one request is one PHP run) re-reads the file the agent replaced.
require $site . '/sqlconf.php';

function openemr_db(): PDO
{
    global $sqlconf;
    $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s;charset=%s',
        $sqlconf['host'], (int) $sqlconf['port'], $sqlconf['dbase'], $sqlconf['db_encoding']);
    return new PDO($dsn, $sqlconf['login'], $sqlconf['pass'], [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_TIMEOUT => 5,
        PDO::ATTR_EMULATE_PREPARES => false,
    ]);
}

/** Starts the PHP session in Redis, authenticated with the password file the agent keeps current. */
function openemr_session_start(string $site): void
{
    $redis = getenv('OPENEMR_REDIS_ADDR') ?: '127.0.0.1:6379';
    $password = file_get_contents($site . '/redis-password');
    ini_set('session.save_handler', 'redis');
    ini_set('session.save_path', 'tcp://' . $redis . '?auth=' . rawurlencode($password) . '&timeout=5');
    ini_set('session.use_strict_mode', '1');
    if (!session_start()) {
        throw new RuntimeException('session_start failed (Redis unreachable or refused the password)');
    }
}
