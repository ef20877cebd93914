<?php
/**
 * Who is asking: the identity the bridge asserts to the service.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Identities for the signed requests.
 */
final class Identity {

	/**
	 * The logged-in user, their Booknetic tenant and their SMS Campaigns capabilities.
	 *
	 * @return array|null Null when nobody is logged in.
	 */
	public static function current_user() {
		$user = wp_get_current_user();
		if ( ! $user || ! $user->exists() ) {
			return null;
		}
		return array(
			'user_id'      => (int) $user->ID,
			'user_login'   => (string) $user->user_login,
			'display_name' => (string) $user->display_name,
			'tenant_id'    => Booknetic::tenant_id(),
			'caps'         => Booknetic::user_capabilities(),
		);
	}

	/**
	 * Booknetic's cron: no user, no tenant, only the `cron` capability.
	 *
	 * @return array
	 */
	public static function cron() {
		return array(
			'user_id'      => 0,
			'user_login'   => 'booknetic-cron',
			'display_name' => __( 'Booknetic cron', 'bkntc-sms-bridge' ),
			'tenant_id'    => null,
			'caps'         => array( 'cron' ),
		);
	}

	/**
	 * Twilio calling a public webhook: nobody logged in, no tenant (the service finds it
	 * from the message), only the `twilio_webhook` capability.
	 *
	 * @return array
	 */
	public static function twilio_webhook() {
		return array(
			'user_id'      => 0,
			'user_login'   => '',
			'display_name' => 'Twilio',
			'tenant_id'    => null,
			'caps'         => array( 'twilio_webhook' ),
		);
	}
}
