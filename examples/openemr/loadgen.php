<?php
// A steady, bounded HTTP load through the OpenEMR-like app, counting every request and failure.
// Like a clinic's users: log in (a new session in Redis), then look up patients with that session
// (Redis + MariaDB + an insert into the log table per lookup); a new login every 10 requests.
// One request at a time at a fixed rate (no bursts, no catch-up): the point is that none fails
// while passwords and certificates change underneath, not throughput. run.sh starts two of these
// (half the rate each), so one slow request does not hold the whole load back.
//
//   php loadgen.php BASE_URL DURATION_SECONDS RATE_PER_SECOND OUT.json [UNTIL_FILE]
//
// With UNTIL_FILE the load also goes on (past DURATION_SECONDS, for at most 10 minutes) until that
// file exists: run.sh creates it when its events are over, so on a slow machine every event still
// happens under load.
declare(strict_types=1);

[$self, $base, $duration, $rate, $out, $untilFile] = $argv + [null, null, null, null, null, null];
if ($out === null) {
    fwrite(STDERR, "usage: php loadgen.php BASE_URL DURATION_SECONDS RATE_PER_SECOND OUT.json [UNTIL_FILE]\n");
    exit(2);
}
$duration = (float) $duration;
$more = static fn (float $elapsed): bool => $elapsed < $duration
    || ($untilFile !== null && !file_exists($untilFile) && $elapsed < $duration + 600);
$interval = 1.0 / (float) $rate;

/** One request; returns [status, body, seconds]. A transport error is status 0. */
function request(string $method, string $url, array $headers = [], string $body = ''): array
{
    $context = stream_context_create(['http' => [
        'method' => $method,
        'header' => implode("\r\n", array_merge($headers, ['Connection: close'])),
        'content' => $body,
        'ignore_errors' => true,   // a 5xx is a response to count, not a PHP warning
        'timeout' => 10,
    ]]);
    $started = hrtime(true);
    $answer = @file_get_contents($url, false, $context);
    $seconds = (hrtime(true) - $started) / 1e9;
    if ($answer === false) {
        return [0, (string) (error_get_last()['message'] ?? 'no response'), $seconds, []];
    }
    $status = 0;
    foreach ($http_response_header as $line) {
        if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m)) {
            $status = (int) $m[1];
        }
    }
    return [$status, $answer, $seconds, $http_response_header];
}

$sent = 0;
$failed = 0;
$byKind = ['login' => ['sent' => 0, 'failed' => 0], 'lookup' => ['sent' => 0, 'failed' => 0]];
$failures = [];
$latencies = [];
$cookie = null;
$started = microtime(true);
$next = $started;
while ($more(microtime(true) - $started)) {
    $now = microtime(true);
    if ($now < $next) {
        usleep((int) (($next - $now) * 1e6));
    }
    $next = max($next + $interval, microtime(true));
    if ($cookie === null || $sent % 10 === 0) {
        $kind = 'login';
        [$status, $body, $seconds, $headers] = request('POST', $base . '/interface/login/login.php',
            ['Content-Type: application/x-www-form-urlencoded'], 'authUser=admin&clearPass=pass');
        $ok = $status === 200 && str_contains($body, 'logged in');
        $cookie = null;
        foreach ($headers as $line) {
            if (preg_match('/^Set-Cookie: (PHPSESSID=[^;]+)/i', $line, $m)) {
                $cookie = $m[1];
            }
        }
        $ok = $ok && $cookie !== null;
    } else {
        $kind = 'lookup';
        $pid = random_int(1, 50);
        [$status, $body, $seconds] = request('GET', $base . '/interface/patient_file/demographics.php?set_pid=' . $pid,
            ['Cookie: ' . $cookie]);
        $ok = $status === 200 && str_starts_with($body, "patient $pid:");
    }
    $sent++;
    $byKind[$kind]['sent']++;
    $latencies[] = $seconds;
    if (!$ok) {
        $failed++;
        $byKind[$kind]['failed']++;
        if (count($failures) < 20) {
            $failures[] = ['atSeconds' => round(microtime(true) - $started, 3), 'kind' => $kind, 'status' => $status,
                'answer' => substr(trim($body), 0, 300)];
        }
        fwrite(STDERR, sprintf("loadgen: %s failed at %.1f s: HTTP %d %s\n", $kind, microtime(true) - $started, $status,
            substr(trim($body), 0, 200)));
    }
}
$elapsed = microtime(true) - $started;
sort($latencies);
$pick = static fn (float $q): float => $latencies === [] ? 0.0
    : round($latencies[min(count($latencies) - 1, (int) floor($q * count($latencies)))] * 1000, 1);
file_put_contents($out, json_encode([
    'sent' => $sent,
    'failed' => $failed,
    'byKind' => $byKind,
    'seconds' => round($elapsed, 1),
    'ratePerSecond' => round($sent / max($elapsed, 0.001), 1),
    'latencyMs' => ['p50' => $pick(0.5), 'p99' => $pick(0.99), 'max' => $pick(1.0)],
    'failures' => $failures,
    // Every request's latency, so the report can merge the workers' percentiles exactly.
    'latenciesMs' => array_map(static fn (float $s): float => round($s * 1000, 1), $latencies),
], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
