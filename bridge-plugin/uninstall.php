<?php
/**
 * Uninstall: delete exactly the options this plugin created. The service's own tables
 * (bkntc_sms_*) hold campaign history and are left for the operator to drop
 * (see the README) — they belong to the service, not to this plugin.
 *
 * @package BkntcSms\Bridge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

require_once __DIR__ . '/src/class-options.php';

foreach ( \BkntcSms\Bridge\Options::ALL as $bkntc_sms_option ) {
	delete_option( $bkntc_sms_option );
}
