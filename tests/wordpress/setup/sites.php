<?php
/**
 * Create the network's extra sites (subdirectories /site2/, /site3/, …), run by wp-run.php
 * --json once the config is multisite.
 *
 * @package BkntcSmsTests
 */

$bkntc_ids = array( get_current_blog_id() );
for ( $bkntc_n = 2; $bkntc_n <= (int) $bkntc_args['sites']; $bkntc_n++ ) {
	$bkntc_id = wpmu_create_blog( $bkntc_args['domain'], "/site{$bkntc_n}/", "Site {$bkntc_n}", 1 );
	if ( is_wp_error( $bkntc_id ) ) {
		fwrite( STDERR, 'wpmu_create_blog: ' . $bkntc_id->get_error_message() . "\n" );
		exit( 1 );
	}
	$bkntc_ids[] = (int) $bkntc_id;
}
return array( 'sites' => $bkntc_ids );
