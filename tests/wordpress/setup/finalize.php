<?php
/**
 * Set options and activate plugins through WordPress (run by wp-run.php --json with
 * $bkntc_args from tests/wp_support.py, after Booknetic's tables were loaded).
 *
 * @package BkntcSmsTests
 */

require_once ABSPATH . 'wp-admin/includes/plugin.php';

foreach ( $bkntc_args['options'] as $bkntc_name => $bkntc_value ) {
	update_option( $bkntc_name, $bkntc_value );
}

foreach ( $bkntc_args['plugins'] as $bkntc_plugin ) {
	$bkntc_result = activate_plugin( $bkntc_plugin );
	if ( is_wp_error( $bkntc_result ) ) {
		fwrite( STDERR, "activate_plugin({$bkntc_plugin}): " . $bkntc_result->get_error_code() . ': ' . $bkntc_result->get_error_message() . ' ' . wp_json_encode( $bkntc_result->get_error_data() ) . "\n" );
		exit( 1 );
	}
}
delete_option( 'rewrite_rules' );

// WordPress's own recurring events, scheduled as if they had just run: otherwise the first
// page views (and wp-admin/admin.php, which schedules two more) make them due at once, and
// every page view would spawn wp-cron.php (update checks, https detection...) in the
// background, which also runs Booknetic's bkntc_cronjob. Events of other plugins are left
// alone.
$bkntc_schedules = wp_get_schedules();
$bkntc_core      = array(
	'wp_version_check'                   => 'twicedaily',
	'wp_update_plugins'                  => 'twicedaily',
	'wp_update_themes'                   => 'twicedaily',
	'wp_https_detection'                 => 'twicedaily',
	'wp_update_user_counts'              => 'twicedaily',
	'recovery_mode_clean_expired_keys'   => 'daily',
	'wp_scheduled_delete'                => 'daily',
	'delete_expired_transients'          => 'daily',
	'wp_scheduled_auto_draft_delete'     => 'daily',
	'wp_privacy_delete_old_export_files' => 'hourly',
	'wp_site_health_scheduled_check'     => 'weekly',
);
foreach ( $bkntc_core as $bkntc_hook => $bkntc_recurrence ) {
	wp_clear_scheduled_hook( $bkntc_hook );
	wp_schedule_event( time() + $bkntc_schedules[ $bkntc_recurrence ]['interval'], $bkntc_recurrence, $bkntc_hook );
}
delete_transient( 'doing_cron' );

// "Checked for updates just now": admin pages would otherwise call api.wordpress.org on
// admin_init (blocked here by WP_HTTP_BLOCK_EXTERNAL, which logs three PHP warnings a time).
$bkntc_checked = array(
	'last_checked' => time(),
	'checked'      => array(),
	'response'     => array(),
	'translations' => array(),
	'no_update'    => array(),
);
set_site_transient(
	'update_core',
	(object) array(
		'updates'         => array(),
		'version_checked' => get_bloginfo( 'version' ),
		'last_checked'    => time(),
		'translations'    => array(),
	)
);
set_site_transient( 'update_plugins', (object) $bkntc_checked );
set_site_transient( 'update_themes', (object) $bkntc_checked );

return array( 'active_plugins' => get_option( 'active_plugins' ) );
