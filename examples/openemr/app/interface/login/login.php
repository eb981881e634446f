<?php
// OpenEMR's login page: GET shows the form (reading the site name from the globals table, as
// OpenEMR does), POST checks the user against the users table and opens a session in Redis.
declare(strict_types=1);
require dirname(__DIR__) . '/globals.php';

$db = openemr_db();
$name = $db->query("SELECT gl_value FROM globals WHERE gl_name = 'openemr_name'")->fetchColumn();
header('Content-Type: text/html; charset=utf-8');

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    echo '<!doctype html><title>' . htmlspecialchars((string) $name) . ' login</title>'
        . '<form method="post"><input name="authUser"><input name="clearPass" type="password">'
        . '<button>Login</button></form>' . "\n";
    return;
}

$find = $db->prepare('SELECT id, password FROM users_secure WHERE username = ?');
$find->execute([(string) ($_POST['authUser'] ?? '')]);
$user = $find->fetch(PDO::FETCH_ASSOC);
if ($user === false || !password_verify((string) ($_POST['clearPass'] ?? ''), $user['password'])) {
    http_response_code(401);
    echo "login failed\n";
    return;
}
openemr_session_start($site);
session_regenerate_id(true);
$_SESSION['authUserID'] = (int) $user['id'];
$_SESSION['authUser'] = (string) $_POST['authUser'];
echo 'logged in to ' . htmlspecialchars((string) $name) . "\n";
