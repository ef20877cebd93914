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
}
