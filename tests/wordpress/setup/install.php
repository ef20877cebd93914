<?php
/**
 * Install WordPress, the roles Booknetic uses and the test users (run by wp-run.php
 * --installing --json with $bkntc_args from tests/wp_support.py).
 *
 * @package BkntcSmsTests
 */

require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$bkntc_admin  = $bkntc_args['admin'];
$bkntc_result = wp_install( $bkntc_args['title'], $bkntc_admin['login'], $bkntc_admin['email'], false, '', $bkntc_admin['password'] );
if ( empty( $bkntc_result['user_id'] ) || is_wp_error( $bkntc_result['user_id'] ) ) {
	fwrite( STDERR, "wp_install failed\n" );
	exit( 1 );
}

foreach ( $bkntc_args['roles'] as $bkntc_role => $bkntc_label ) {
	add_role( $bkntc_role, $bkntc_label, array( 'read' => true ) );
}

$bkntc_ids = array( $bkntc_admin['login'] => (int) $bkntc_result['user_id'] );
foreach ( $bkntc_args['users'] as $bkntc_user ) {
	$bkntc_id = wp_insert_user(
		array(
			'user_login'   => $bkntc_user['login'],
			'user_pass'    => $bkntc_user['password'],
			'user_email'   => $bkntc_user['email'],
			'display_name' => $bkntc_user['display_name'],
			'role'         => $bkntc_user['role'],
		)
	);
	if ( is_wp_error( $bkntc_id ) ) {
		fwrite( STDERR, 'wp_insert_user ' . $bkntc_user['login'] . ': ' . $bkntc_id->get_error_message() . "\n" );
		exit( 1 );
	}
	$bkntc_ids[ $bkntc_user['login'] ] = (int) $bkntc_id;
}

if ( ! empty( $bkntc_args['permalink_structure'] ) ) {
	update_option( 'permalink_structure', $bkntc_args['permalink_structure'] );
}
delete_option( 'rewrite_rules' ); // Rebuilt by the first request, with every plugin loaded.

return array( 'users' => $bkntc_ids );
