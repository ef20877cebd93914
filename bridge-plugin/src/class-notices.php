<?php
/**
 * Admin notices.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Tells administrators what is missing, instead of failing silently.
 */
final class Notices {

	/**
	 * Without Booknetic the bridge does nothing but say so.
	 */
	public static function booknetic_missing() {
		if ( Booknetic::available() || ! current_user_can( 'activate_plugins' ) ) {
			return;
		}
		echo '<div class="notice notice-warning" id="bkntc-sms-booknetic-missing"><p>'
			. esc_html__( 'Booknetic SMS Campaigns needs Booknetic (version 3 or newer). Install and activate Booknetic; until then the SMS Campaigns bridge does nothing.', 'bkntc-sms-bridge' )
			. '</p></div>';
	}

	/**
	 * The service and this plugin come from different releases (major.minor differ): say
	 * which part to update. Uses the version the service last reported (Test connection and
	 * the settings screen read it), so no admin page waits on the service.
	 */
	public static function version_mismatch() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$mismatch = Versions::mismatch();
		if ( null === $mismatch ) {
			return;
		}
		if ( 'service' === $mismatch['part'] ) {
			/* translators: 1: the service's version, 2: this plugin's version, 3: major.minor to update the service to. */
			$text = __( 'SMS Campaigns: the service runs %1$s but this plugin is %2$s. Update the service to %3$s (see the README, "Upgrading"), then press Test connection under Settings → SMS Campaigns.', 'bkntc-sms-bridge' );
		} else {
			/* translators: 1: the service's version, 2: this plugin's version, 3: major.minor to update the plugin to. */
			$text = __( 'SMS Campaigns: the service runs %1$s but this plugin is %2$s. Update the plugin to %3$s (upload its zip under Plugins → Add New), then press Test connection under Settings → SMS Campaigns.', 'bkntc-sms-bridge' );
		}
		echo '<div class="notice notice-warning" id="bkntc-sms-version-mismatch"><p>'
			. esc_html( sprintf( $text, $mismatch['service'], $mismatch['plugin'], $mismatch['to'] ) )
			. '</p></div>';
	}
}
