<?php
/**
 * Booknetic's client for FS Code's licence/migration server.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\FSCode\Clients;

defined( 'ABSPATH' ) || exit;

/**
 * requestNew(endpoint, method, data) → {ok, code, data}. The real client posts JSON to
 * https://api.fs-code.com/v3/<endpoint>; the stand-in posts to the constant
 * BKNTC_STANDIN_FSCODE_API (tests/wp_support.py points it at a loopback stub that counts
 * calls), so a test sees every request core would make to the licence server.
 */
class FSCodeAPIClient {

	/**
	 * One request. Any transport error or non-2xx answer is an error, as with the real client.
	 *
	 * @param string $endpoint Path under v3/.
	 * @param string $method   HTTP method.
	 * @param array  $data     JSON body.
	 * @return array{ok: bool, code: int, data: array}
	 */
	public function requestNew( string $endpoint, string $method = 'GET', array $data = array() ): array {
		$base     = defined( 'BKNTC_STANDIN_FSCODE_API' ) ? BKNTC_STANDIN_FSCODE_API : 'https://api.fs-code.com/';
		$response = wp_remote_request(
			rtrim( $base, '/' ) . '/v3/' . $endpoint,
			array(
				'method'  => $method,
				'headers' => array(
					'Content-Type' => 'application/json',
					'Accept'       => 'application/json',
				),
				'body'    => $data ? wp_json_encode( $data ) : null,
				'timeout' => 10,
			)
		);
		if ( is_wp_error( $response ) ) {
			return array(
				'ok'   => false,
				'code' => 0,
				'data' => array(),
			);
		}
		$code    = (int) wp_remote_retrieve_response_code( $response );
		$decoded = json_decode( wp_remote_retrieve_body( $response ), true );
		return array(
			'ok'   => $code >= 200 && $code < 300,
			'code' => $code,
			'data' => is_array( $decoded ) ? $decoded : array(),
		);
	}
}
