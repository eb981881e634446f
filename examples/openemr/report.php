<?php
// The report of examples/openemr/run.sh: reads the facts the run recorded (FACTS_DIR), prints a
// table, writes the same as JSON (REPORT_FILE, optional) and exits 1 if any goal was not met.
//
//   php report.php FACTS_DIR [REPORT_FILE]
declare(strict_types=1);

[$self, $dir, $reportFile] = $argv + [null, null, ''];
if ($dir === null) {
    fwrite(STDERR, "usage: php report.php FACTS_DIR [REPORT_FILE]\n");
    exit(2);
}

/** key=value lines; a missing file is an empty map (the goal using it then fails). */
function properties(string $file): array
{
    $out = [];
    if (!is_file($file)) {
        return $out;
    }
    foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
        $at = strpos($line, '=');
        if ($at !== false) {
            $out[substr($line, 0, $at)] = substr($line, $at + 1);
        }
    }
    return $out;
}

function json_file(string $file): ?array
{
    if (!is_file($file)) {
        return null;
    }
    $value = json_decode((string) file_get_contents($file), true);
    return is_array($value) ? $value : null;
}

// The load workers' results, merged: counts add up, percentiles come from every request's latency.
$workers = array_values(array_filter(array_map('json_file', glob("$dir/load-*.json") ?: [])));
$latencies = array_merge(...array_map(static fn ($w) => $w['latenciesMs'] ?? [], $workers ?: [[]]));
sort($latencies);
$pick = static fn (float $q): float => $latencies === [] ? 0.0 : $latencies[min(count($latencies) - 1, (int) floor($q * count($latencies)))];
$sum = static fn (string $path): int => array_sum(array_map(static function ($w) use ($path) {
    $v = $w;
    foreach (explode('.', $path) as $k) {
        $v = $v[$k] ?? 0;
    }
    return (int) $v;
}, $workers));
$seconds = $workers === [] ? 0.0 : max(array_map(static fn ($w) => (float) ($w['seconds'] ?? 0), $workers));
$load = $workers === [] ? ['sent' => 0, 'failed' => -1] : [
    'sent' => $sum('sent'),
    'failed' => $sum('failed'),
    'workers' => count($workers),
    'byKind' => [
        'login' => ['sent' => $sum('byKind.login.sent'), 'failed' => $sum('byKind.login.failed')],
        'lookup' => ['sent' => $sum('byKind.lookup.sent'), 'failed' => $sum('byKind.lookup.failed')],
    ],
    'seconds' => $seconds,
    'ratePerSecond' => round($sum('sent') / max($seconds, 0.001), 1),
    'latencyMs' => ['p50' => $pick(0.5), 'p99' => $pick(0.99), 'max' => $pick(1.0)],
    'failures' => array_merge(...array_map(static fn ($w) => $w['failures'] ?? [], $workers)),
];

// MariaDB rotations: the run's exit code, its JSON report, and whether the app followed.
$rotations = [];
for ($n = 1; is_file("$dir/rotation-$n.rc"); $n++) {
    $rc = (int) trim((string) file_get_contents("$dir/rotation-$n.rc"));
    $run = json_file("$dir/rotation-$n.json") ?? [];
    $state = properties("$dir/rotation-$n.properties");
    $status = json_file("$dir/rotation-$n.status.json") ?? [];
    $checks = is_array($status['checks'] ?? null) ? $status['checks'] : [];
    $statusOk = $checks !== [] && array_filter($checks, static fn ($c) => ($c['ok'] ?? false) !== true) === [];
    $before = (string) ($run['activeBefore'] ?? '');
    $active = (string) ($run['activeAfter'] ?? '');
    $rendered = $state['rendered'] ?? '';
    $rotations[] = [
        'run' => $n,
        'exitCode' => $rc,
        'activeBefore' => $before,
        'activeAfter' => $active,
        'appUsesUser' => $rendered,
        'statusChecksOk' => $statusOk,
        'steps' => is_array($run['steps'] ?? null) ? count($run['steps']) : 0,
        'seconds' => round(((int) ($run['totalMillis'] ?? 0)) / 1000, 1),
        'error' => $run['error'] ?? null,
        'converged' => $rc === 0 && ($run['ok'] ?? false) === true && $active !== '' && $active !== $before
            && $statusOk && $rendered === 'openemr_' . strtolower($active),
    ];
}
$redis = properties("$dir/redis-rotation.properties");

$serials = properties("$dir/serials.properties");
$peerOf = ['mariadb' => 'openemr', 'redis' => 'openemr', 'app-mariadb' => 'mariadb', 'app-redis' => 'redis'];
$ownOf = ['mariadb' => 'mariadb', 'redis' => 'redis', 'app-mariadb' => 'openemr', 'app-redis' => 'openemr'];
$certificates = [];
foreach ($peerOf as $tunnel => $peer) {
    $own = $ownOf[$tunnel];
    $certificates[$tunnel] = [
        'certificate' => $own,
        'serialBefore' => $serials["before.$own"] ?? '',
        'serialAfter' => $serials["after.$own"] ?? '',
        'peer' => $peer,
        'peerSerialSeenBefore' => $serials["before.seen.$tunnel"] ?? '',
        'peerSerialSeenAfter' => $serials["after.seen.$tunnel"] ?? '',
    ];
    $c = $certificates[$tunnel];
    $certificates[$tunnel]['renewedAndPickedUp'] = $c['serialBefore'] !== '' && $c['serialAfter'] !== ''
        && $c['serialBefore'] !== $c['serialAfter']
        && $c['peerSerialSeenAfter'] === ($serials["after.$peer"] ?? '-')
        && $c['peerSerialSeenBefore'] === ($serials["before.$peer"] ?? '-');
}

$i = properties("$dir/intruder.properties");
$external = ($i['externalAddress'] ?? 'none') !== 'none';
$loopbackOnly = static fn (string $binds): bool => $binds !== ''
    && array_filter(explode(',', $binds), static fn ($b) => !str_starts_with($b, '127.0.0.1:')) === [];
$intruder = [
    'identity' => $i['tunnel.identity'] ?? '',
    'mariadbListensOn' => $i['mariadbBind'] ?? '',
    'redisListensOn' => $i['redisBind'] ?? '',
    'direct' => $external ? [
        'address' => $i['externalAddress'],
        'mariadb' => $i['direct.mariadb.answer'] ?? '',
        'redis' => $i['direct.redis.answer'] ?? '',
        'refused' => ($i['direct.mariadb.exit'] ?? '0') !== '0' && !str_contains($i['direct.redis.answer'] ?? 'PONG', 'PONG')
            && !str_contains($i['direct.redis.answer'] ?? '', 'NOAUTH'),
    ] : ['address' => 'none (this host has no non-loopback IPv4 address)', 'refused' => true],
    'plainToTunnel' => [
        'answer' => $i['plain.answer'] ?? '',
        'refusedHandshakes' => (int) ($i['plain.refusedHandshakes'] ?? 0),
        'refused' => ($i['plain.exit'] ?? '0') !== '0' && (int) ($i['plain.refusedHandshakes'] ?? 0) >= 1,
    ],
    'throughTunnelWithStolenPassword' => [
        'answer' => $i['tunnel.answer'] ?? '',
        'tunnelLog' => $i['tunnel.serverLog'] ?? '',
        'refusedByIdentity' => (int) ($i['tunnel.refusedByIdentity'] ?? 0),
        'refused' => ($i['tunnel.exit'] ?? '0') !== '0' && (int) ($i['tunnel.refusedByIdentity'] ?? 0) >= 1,
    ],
];
$intruder['attempts'] = 2 + ($external ? 2 : 0);
$intruder['refused'] = $loopbackOnly($intruder['mariadbListensOn']) && $loopbackOnly($intruder['redisListensOn'])
    && $intruder['direct']['refused'] && $intruder['plainToTunnel']['refused']
    && $intruder['throughTunnelWithStolenPassword']['refused'];

$a = properties("$dir/audit.properties");
$reads = [];
foreach ($a as $key => $value) {
    if (str_starts_with($key, 'reads.') && $key !== 'reads.total') {
        $reads[substr($key, 6)] = (int) $value;
    }
}
$audit = [
    'secretReads' => (int) ($a['reads.total'] ?? 0),
    'secretReadsRejected' => (int) ($a['rejected.total'] ?? 0),
    'secretReadsDenied' => (int) ($a['denied.total'] ?? 0),
    'records' => (int) ($a['records.total'] ?? 0),
    'secretReadsByIdentity' => $reads,
    'joins' => (int) ($a['joins'] ?? 0),
    'renewals' => (int) ($a['renewals'] ?? 0),
    'verify' => $a['verify.answer'] ?? '',
    'verified' => ($a['verify.exit'] ?? '1') === '0',
];
$m = properties("$dir/mesh.properties");
$mesh = [
    'check' => $m['check.answer'] ?? '',
    'passed' => ($m['render.exit'] ?? '1') === '0' && ($m['check.exit'] ?? '1') === '0',
    'committedManifestsMatchRender' => ($m['committed.exit'] ?? '1') === '0',
];

$goals = [
    'no failed request' => ($load['sent'] ?? 0) > 0 && ($load['failed'] ?? -1) === 0,
    'every MariaDB rotation converged' => $rotations !== [] && array_filter($rotations, static fn ($r) => !$r['converged']) === [],
    'Redis password rotated' => ($redis['converged'] ?? 'false') === 'true',
    'every tunnel certificate renewed and picked up' => array_filter($certificates, static fn ($c) => !$c['renewedAndPickedUp']) === [],
    'intruder refused' => $intruder['refused'],
    'audit chain verifies' => $audit['verified'] && $audit['secretReads'] > 0,
    'mesh check passes' => $mesh['passed'] && $mesh['committedManifestsMatchRender'],
];
$report = [
    'goalsMet' => !in_array(false, $goals, true),
    'goals' => $goals,
    'requests' => $load,
    'rotations' => ['mariadb' => $rotations, 'redis' => $redis],
    'certificates' => $certificates,
    'intruder' => $intruder,
    'audit' => $audit,
    'mesh' => $mesh,
];

$yes = static fn (bool $b): string => $b ? 'yes' : 'NO';
$rows = [
    ['requests sent / failed', sprintf('%d / %d (%.1f/s over %.1f s; p50 %s ms, p99 %s ms)', $load['sent'] ?? 0,
        $load['failed'] ?? -1, $load['ratePerSecond'] ?? 0, $load['seconds'] ?? 0, $load['latencyMs']['p50'] ?? '?',
        $load['latencyMs']['p99'] ?? '?')],
];
foreach ($rotations as $r) {
    $rows[] = ["MariaDB rotation {$r['run']}", sprintf('exit %d in %.1f s, slot %s -> %s, app uses %s, converged: %s%s',
        $r['exitCode'], $r['seconds'], $r['activeBefore'] ?: '?', $r['activeAfter'] ?: '?', $r['appUsesUser'] ?: '?',
        $yes($r['converged']), $r['error'] ? ' (' . $r['error'] . ')' : '')];
}
$rows[] = ['Redis password rotation', sprintf('agent rendered: %s, requirepass is the new one: %s, old password: %s, converged: %s',
    $redis['rendered'] ?? '?', $redis['configNamesNewPassword'] ?? '?', $redis['oldPassword'] ?? '?',
    $yes(($redis['converged'] ?? '') === 'true'))];
foreach ($certificates as $tunnel => $c) {
    $rows[] = ["tunnel $tunnel certificate", sprintf('serial %s -> %s; peer saw %s: %s', substr($c['serialBefore'], 0, 12),
        substr($c['serialAfter'], 0, 12), $c['peer'], $yes($c['renewedAndPickedUp']))];
}
$rows[] = ['intruder: listen addresses', "MariaDB {$intruder['mariadbListensOn']}, Redis {$intruder['redisListensOn']}"];
$rows[] = ['intruder: direct', $external ? "{$intruder['direct']['address']}: {$intruder['direct']['mariadb']}" : $intruder['direct']['address']];
$rows[] = ['intruder: plain TCP to tunnel', sprintf('%s (handshake refusals: %d)', $intruder['plainToTunnel']['answer'],
    $intruder['plainToTunnel']['refusedHandshakes'])];
$rows[] = ['intruder: via tunnel (own cert)', sprintf('%s (refused by identity: %d)',
    $intruder['throughTunnelWithStolenPassword']['answer'], $intruder['throughTunnelWithStolenPassword']['refusedByIdentity'])];
$rows[] = ['audit: secret reads', sprintf('%d with a value (%s), %d answered 404; of %d records', $audit['secretReads'],
    implode(', ', array_map(static fn ($k, $v) => "$k: $v", array_keys($reads), $reads)), $audit['secretReadsRejected'],
    $audit['records'])];
$rows[] = ['audit: joins, renewals', sprintf('%d joins with a token, %d certificate renewals', $audit['joins'], $audit['renewals'])];
$rows[] = ['audit verify', $audit['verify']];
$rows[] = ['mesh check', $mesh['check'] . '; committed k8s/mesh = render: ' . $yes($mesh['committedManifestsMatchRender'])];
foreach ($goals as $goal => $met) {
    $rows[] = ["GOAL $goal", $yes($met)];
}

$width = max(array_map(static fn ($r) => strlen($r[0]), $rows));
echo "\nOpenEMR end to end: report\n" . str_repeat('-', $width + 60) . "\n";
foreach ($rows as [$what, $value]) {
    printf("%-{$width}s  %s\n", $what, $value);
}
echo str_repeat('-', $width + 60) . "\n" . ($report['goalsMet'] ? "every goal met\n" : "GOALS NOT MET\n");
if ($reportFile !== '') {
    file_put_contents($reportFile, json_encode($report, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
    echo "JSON report: $reportFile\n";
}
exit($report['goalsMet'] ? 0 : 1);
