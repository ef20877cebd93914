<?php
/**
 * The bridge signing protocol (DESIGN.md §6), PHP side.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Builds X-Bkntc-Identity and X-Bkntc-Signature for one request.
 */
final class Signer {

	/**
	 * The two headers for a request.
	 *
	 * @param string $secret          Shared secret.
	 * @param string $method          HTTP method.
	 * @param string $path_with_query Exactly the path and query that will be requested.
	 * @param string $body            Exactly the body bytes that will be sent.
	 * @param array  $identity        user_id, user_login, display_name, tenant_id, caps.
	 * @return array
	 */
	public static function headers( $secret, $method, $path_with_query, $body, array $identity ) {
		$payload = array(
			'user_id'      => (int) $identity['user_id'],
			'user_login'   => (string) $identity['user_login'],
			'display_name' => (string) $identity['display_name'],
			'tenant_id'    => null === $identity['tenant_id'] ? null : (int) $identity['tenant_id'],
			'caps'         => array_values( array_map( 'strval', $identity['caps'] ) ),
			'ts'           => time(),
			'nonce'        => bin2hex( random_bytes( 16 ) ),
		);
		$encoded = self::base64url( (string) wp_json_encode( $payload ) );
		$message = strtoupper( $method ) . "\n" . $path_with_query . "\n" . $encoded . "\n" . hash( 'sha256', $body );
		return array(
			'X-Bkntc-Identity'  => $encoded,
			'X-Bkntc-Signature' => hash_hmac( 'sha256', $message, $secret ),
		);
	}

	/**
	 * Base64url without padding.
	 *
	 * @param string $data Bytes.
	 * @return string
	 */
	public static function base64url( $data ) {
		return rtrim( strtr( base64_encode( $data ), '+/', '-_' ), '=' ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- protocol encoding.
	}
}
