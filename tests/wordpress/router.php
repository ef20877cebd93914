<?php
/**
 * Router for `php -S 127.0.0.1:PORT -t /usr/share/wordpress router.php` (tests/wp_support.py).
 *
 * - Debian's wp-config.php picks /etc/wordpress/config-<WORDPRESS_CONFIG>.php, but php -S
 *   does not copy environment variables into $_SERVER, so the router sets it from the
 *   environment variable BKNTC_WP_CONFIG.
 * - /wp-content/... is served from BKNTC_WP_CONTENT_DIR (the test's WP_CONTENT_DIR).
 * - Anything that is not a file goes to index.php, as Apache's WordPress rewrite rules do
 *   (pretty permalinks, /wp-json/...).
 *
 * Globals are prefixed: the router runs in the same global scope as WordPress.
 *
 * @package BkntcSmsTests
 */

$_SERVER['WORDPRESS_CONFIG'] = (string) getenv( 'BKNTC_WP_CONFIG' );

$bkntc_router_path = rawurldecode( (string) parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) );
if ( false !== strpos( $bkntc_router_path, '..' ) || false !== strpos( $bkntc_router_path, "\0" ) ) {
	http_response_code( 400 );
	return true;
}

if ( 0 === strpos( $bkntc_router_path, '/wp-content/' ) ) {
	$bkntc_router_file = rtrim( (string) getenv( 'BKNTC_WP_CONTENT_DIR' ), '/' ) . substr( $bkntc_router_path, strlen( '/wp-content' ) );
	if ( is_file( $bkntc_router_file ) ) {
		if ( '.php' === substr( $bkntc_router_file, -4 ) ) {
			$_SERVER['SCRIPT_FILENAME'] = $bkntc_router_file;
			$_SERVER['SCRIPT_NAME']     = $bkntc_router_path;
			$_SERVER['PHP_SELF']        = $bkntc_router_path;
			chdir( dirname( $bkntc_router_file ) );
			require $bkntc_router_file;
			return true;
		}
		$bkntc_router_types = array(
			'css'   => 'text/css',
			'js'    => 'application/javascript',
			'mjs'   => 'application/javascript',
			'json'  => 'application/json',
			'map'   => 'application/json',
			'svg'   => 'image/svg+xml',
			'png'   => 'image/png',
			'jpg'   => 'image/jpeg',
			'jpeg'  => 'image/jpeg',
			'gif'   => 'image/gif',
			'webp'  => 'image/webp',
			'ico'   => 'image/x-icon',
			'woff'  => 'font/woff',
			'woff2' => 'font/woff2',
			'ttf'   => 'font/ttf',
			'html'  => 'text/html; charset=UTF-8',
			'txt'   => 'text/plain; charset=UTF-8',
		);
		$bkntc_router_ext   = strtolower( pathinfo( $bkntc_router_file, PATHINFO_EXTENSION ) );
		header( 'Content-Type: ' . ( isset( $bkntc_router_types[ $bkntc_router_ext ] ) ? $bkntc_router_types[ $bkntc_router_ext ] : 'application/octet-stream' ) );
		header( 'Content-Length: ' . filesize( $bkntc_router_file ) );
		readfile( $bkntc_router_file );
		return true;
	}
}

if ( file_exists( $_SERVER['DOCUMENT_ROOT'] . $bkntc_router_path ) ) {
	return false; // A real file or directory of /usr/share/wordpress: php -S serves or runs it.
}

$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['PHP_SELF']        = '/index.php';
chdir( $_SERVER['DOCUMENT_ROOT'] );
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
return true;
