<?php
// Patient lookup, as OpenEMR's demographics page: needs a logged-in session (from Redis), reads
// the patient from patient_data and records the access in the log table (OpenEMR's own audit).
declare(strict_types=1);
require dirname(__DIR__) . '/globals.php';

openemr_session_start($site);
if (!isset($_SESSION['authUserID'])) {
    http_response_code(401);
    echo "not logged in\n";
    return;
}
$user = (string) $_SESSION['authUser'];
session_write_close();

$pid = (int) ($_GET['set_pid'] ?? 0);
$db = openemr_db();
$find = $db->prepare('SELECT pid, fname, lname, DOB FROM patient_data WHERE pid = ?');
$find->execute([$pid]);
$patient = $find->fetch(PDO::FETCH_ASSOC);
if ($patient === false) {
    http_response_code(404);
    echo "no patient $pid\n";
    return;
}
$db->prepare("INSERT INTO log (date, event, user, patient_id) VALUES (NOW(), 'patient-record-view', ?, ?)")
    ->execute([$user, $pid]);
header('Content-Type: text/plain; charset=utf-8');
printf("patient %d: %s %s, born %s\n", $patient['pid'], $patient['fname'], $patient['lname'], $patient['DOB']);
