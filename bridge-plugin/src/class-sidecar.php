<?php
/**
 * Signed server-to-server requests to the SMS Campaigns service.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * A thin client: sign, send with a short timeout, return WordPress's HTTP response.
 */
final class Sidecar {

	/**
	 * Send one signed request.
	 *
	 * @param string $method          HTTP method.
	 * @param string $path_with_query Path and query on the service, e.g. /ui/campaigns?page=2.
	 * @param string $body            Raw body.
	 * @param array  $identity        Identity to assert.
	 * @param array  $headers         Extra headers to forward.
	 * @param float  $timeout         Seconds; WordPress must never hang on the service.
	 * @return array|\WP_Error
	 */
	public static function request( $method, $path_with_query, $body, array $identity, array $headers = array(), $timeout = Relay::TIMEOUT ) {
		$secret = Options::secret();
		if ( '' === $secret ) {
			return new \WP_Error( 'bkntc_sms_no_secret', __( 'The bridge has no shared secret: deactivate and activate the plugin, or regenerate it under Settings → SMS Campaigns.', 'bkntc-sms-bridge' ) );
		}
		$headers = array_merge( $headers, Signer::headers( $secret, $method, $path_with_query, $body, $identity ) );
		// wp_remote_request, not wp_safe_remote_request: the service normally listens on
		// 127.0.0.1 or a private address, which the "safe" variant refuses (tech-notes §6.1).
		return wp_remote_request(
			Options::sidecar_url() . $path_with_query,
			array(
				'method'      => strtoupper( $method ),
				'headers'     => $headers,
				'body'        => ( 'GET' === strtoupper( $method ) || 'HEAD' === strtoupper( $method ) ) ? null : $body,
				'timeout'     => $timeout,
				'redirection' => 0,
			)
		);
	}
}
