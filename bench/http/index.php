<?php
// bench/http/index.php - the nginx + PHP-FPM side of the HTTP benchmark
// (bench/README.md, "HTTP servers"); nginx sends every /v1/tasks/* here.
//   POST /v1/tasks/noop    200, empty body
//   POST /v1/tasks/sha256  200, hex sha256 of the body + "\n"
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
	http_response_code(405);
	header('Allow: POST');
	exit;
}
if ($path === '/v1/tasks/noop') {
	header('Content-Type: application/octet-stream');
	exit;
}
if ($path === '/v1/tasks/sha256') {
	header('Content-Type: text/plain');
	echo hash('sha256', file_get_contents('php://input')), "\n";
	exit;
}
http_response_code(404);
header('Content-Type: text/plain');
echo "kinds: noop sha256\n";
