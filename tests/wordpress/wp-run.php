<?php
/**
 * Run a PHP file inside WordPress from the command line (tests/wp_support.py).
 *
 *   php wp-run.php [--installing] [--admin] [--user=ID] [--json] FILE
 *
 * Environment: BKNTC_WP_CONFIG (Debian config name: /etc/wordpress/config-NAME.php),
 * BKNTC_WP_HOST (host:port of the site), BKNTC_WP_ARGS (optional JSON file, decoded into
 * $bkntc_args for FILE).
 *
 * --installing defines WP_INSTALLING (no plugins load) and stubs wp_mail (no sendmail);
 * --admin defines WP_ADMIN, so is_admin() is true and Booknetic fires bkntc_backend;
 * --user makes that user the current user from the start (before plugins_loaded/init);
 * --json prints the value FILE returns, JSON-encoded, after a marker line.
 * A CLI run never spawns wp-cron.php (WordPress would on every run with due events).
 *
 * @package BkntcSmsTests
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}

$bkntc_run_opts = getopt( '', array( 'installing', 'admin', 'user:', 'json' ), $bkntc_run_rest );
$bkntc_run_file = isset( $argv[ $bkntc_run_rest ] ) ? $argv[ $bkntc_run_rest ] : '';
if ( '' === $bkntc_run_file || ! is_file( $bkntc_run_file ) ) {
	fwrite( STDERR, "wp-run.php: no such file: {$bkntc_run_file}\n" );
	exit( 2 );
}

$bkntc_run_host = (string) getenv( 'BKNTC_WP_HOST' );
$bkntc_run_port = '80';
if ( false !== strpos( $bkntc_run_host, ':' ) ) {
	$bkntc_run_port = substr( $bkntc_run_host, strrpos( $bkntc_run_host, ':' ) + 1 );
}
$_SERVER['WORDPRESS_CONFIG'] = (string) getenv( 'BKNTC_WP_CONFIG' );
$_SERVER['HTTP_HOST']        = $bkntc_run_host;
$_SERVER['SERVER_NAME']      = preg_replace( '/:.*/', '', $bkntc_run_host );
$_SERVER['SERVER_PORT']      = $bkntc_run_port;
$_SERVER['SERVER_PROTOCOL']  = 'HTTP/1.1';
$_SERVER['REQUEST_METHOD']   = 'GET';
$_SERVER['REQUEST_URI']      = '/';
$_SERVER['REMOTE_ADDR']      = '127.0.0.1';
$_SERVER['SCRIPT_NAME']      = '/index.php';
$_SERVER['PHP_SELF']         = '/index.php';

$bkntc_args = array();
if ( getenv( 'BKNTC_WP_ARGS' ) ) {
	$bkntc_args = json_decode( (string) file_get_contents( getenv( 'BKNTC_WP_ARGS' ) ), true );
}

if ( isset( $bkntc_run_opts['installing'] ) ) {
	define( 'WP_INSTALLING', true );
	/**
	 * No mail while installing (Debian has no sendmail here).
	 *
	 * @return bool
	 */
	function wp_mail() {
		return true;
	}
}
if ( isset( $bkntc_run_opts['admin'] ) ) {
	define( 'WP_ADMIN', true );
}
// Pre-initialised hooks (WP_Hook::build_preinitialized_hooks): in place before wp-load.php.
$wp_filter = array(
	// A CLI run must not spawn wp-cron.php: that costs up to 1 s per run and leaves WordPress's
	// cron lock set (the php -S server may not even be running yet).
	'init' => array(
		PHP_INT_MIN => array(
			array(
				'function'      => static function () {
					remove_action( 'init', 'wp_cron' );
				},
				'accepted_args' => 0,
			),
		),
	),
);
if ( isset( $bkntc_run_opts['user'] ) ) {
	$bkntc_run_user = (int) $bkntc_run_opts['user'];

	$wp_filter['determine_current_user'] = array(
		PHP_INT_MAX => array(
			array(
				'function'      => static function () use ( $bkntc_run_user ) {
					return $bkntc_run_user;
				},
				'accepted_args' => 1,
			),
		),
	);
}

require '/usr/share/wordpress/wp-load.php';

$bkntc_run_result = require $bkntc_run_file;

if ( isset( $bkntc_run_opts['json'] ) ) {
	echo "\n<<<BKNTC-JSON>>>\n" . wp_json_encode( $bkntc_run_result );
}
