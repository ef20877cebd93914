<?php
/**
 * Turn the installed site into a multisite network (subdirectories), as wp-admin/network.php
 * does (run by wp-run.php --installing --json with $bkntc_args from tests/wp_support.py; the
 * config then gets the MULTISITE constants).
 *
 * @package BkntcSmsTests
 */

require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/network.php';

foreach ( $wpdb->tables( 'ms_global' ) as $bkntc_table => $bkntc_prefixed ) {
	$wpdb->$bkntc_table = $bkntc_prefixed;
}
install_network();
$bkntc_result = populate_network( 1, $bkntc_args['domain'], $bkntc_args['email'], $bkntc_args['title'], '/', false );
if ( is_wp_error( $bkntc_result ) ) {
	fwrite( STDERR, 'populate_network: ' . $bkntc_result->get_error_code() . ': ' . $bkntc_result->get_error_message() . "\n" );
	exit( 1 );
}
return array( 'network' => 1 );
