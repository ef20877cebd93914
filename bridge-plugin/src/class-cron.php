<?php
/**
 * Booknetic's cron tick, forwarded to the service.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * On bkntc_cronjob: a signed POST /bridge/tick. The service answers 202 at once and runs
 * its queue in the background, so the request that triggered Booknetic's cron is not held
 * up; the short timeout bounds the worst case when the service is down.
 */
final class Cron {

	const TIMEOUT = 3.0;

	/**
	 * Forward one tick and remember how it went (shown on the settings screen).
	 */
	public static function tick() {
		$response = Sidecar::request( 'POST', '/bridge/tick', '{}', Identity::cron(), array( 'Content-Type' => 'application/json' ), self::TIMEOUT );
		$result   = array( 'at' => time() );
		if ( is_wp_error( $response ) ) {
			$result['ok']    = false;
			$result['error'] = $response->get_error_message();
		} else {
			$code            = (int) wp_remote_retrieve_response_code( $response );
			$result['ok']    = 202 === $code;
			$result['error'] = 202 === $code ? '' : 'HTTP ' . $code . ': ' . substr( wp_remote_retrieve_body( $response ), 0, 300 );
		}
		update_option( Options::LAST_TICK, $result, false );
	}
}
