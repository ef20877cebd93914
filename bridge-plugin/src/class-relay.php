<?php
/**
 * The relay: every browser request for SMS Campaigns goes to WordPress, is checked,
 * signed and forwarded to the service, and the answer comes back intact.
 *
 * Contract (README, "Relay contract"): GET|POST|PUT|DELETE
 * /wp-admin/admin-ajax.php?action=bkntc_sms&p=<service path with query>[&more=params]
 * → the service path, with p's own query plus the other parameters (a GET form puts its
 * fields beside p). State-changing requests must carry X-WP-Nonce for `bkntc_sms_relay`.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * The wp_ajax_bkntc_sms handler (logged-in users only: there is no nopriv hook).
 */
final class Relay {

	const ACTION       = 'bkntc_sms';
	const NONCE_ACTION = 'bkntc_sms_relay';

	const FORWARD_REQUEST_HEADERS  = array( 'content-type', 'accept', 'x-bkntc-csrf' );
	const FORWARD_RESPONSE_HEADERS = array(
		'content-type',
		'content-disposition',
		'cache-control',
		'content-security-policy',
		'x-content-type-options',
		'referrer-policy',
		'x-bkntc-export-total',
		'x-bkntc-export-rows',
		'x-bkntc-export-truncated',
		'retry-after',
	);

	/**
	 * The relay URL of a service path (what the iframe and the pages use).
	 *
	 * @param string $path Service path, e.g. /ui/campaigns.
	 * @return string
	 */
	public static function url( $path ) {
		return add_query_arg(
			array(
				'action' => self::ACTION,
				'p'      => rawurlencode( $path ),
			),
			admin_url( 'admin-ajax.php' )
		);
	}

	/**
	 * Handle one relayed request and exit.
	 */
	public static function handle() {
		if ( ! Booknetic::available() ) {
			self::fail( 503, 'booknetic_inactive', __( 'Booknetic is not active, so SMS Campaigns is not available.', 'bkntc-sms-bridge' ) );
		}
		$identity = Identity::current_user();
		// Capability first …
		if ( null === $identity || ! in_array( Booknetic::TENANT_GATE, $identity['caps'], true ) ) {
			self::fail( 403, 'forbidden', __( 'You do not have access to SMS Campaigns.', 'bkntc-sms-bridge' ) );
		}
		$method = isset( $_SERVER['REQUEST_METHOD'] ) ? strtoupper( sanitize_key( wp_unslash( $_SERVER['REQUEST_METHOD'] ) ) ) : 'GET';
		if ( ! in_array( $method, array( 'GET', 'POST', 'PUT', 'DELETE' ), true ) ) {
			self::fail( 405, 'method_not_allowed', __( 'Method not allowed.', 'bkntc-sms-bridge' ) );
		}
		// … then the nonce, on every state change.
		if ( 'GET' !== $method ) {
			$nonce = isset( $_SERVER['HTTP_X_WP_NONCE'] ) ? sanitize_text_field( wp_unslash( $_SERVER['HTTP_X_WP_NONCE'] ) ) : '';
			if ( ! wp_verify_nonce( $nonce, self::NONCE_ACTION ) ) {
				self::fail( 403, 'wp_nonce', __( 'This page has expired. Reload it and try again.', 'bkntc-sms-bridge' ) );
			}
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- reads are capability-checked above; writes were nonce-checked.
		$path = self::service_path( wp_unslash( $_GET ) );
		if ( null === $path ) {
			self::fail( 400, 'bad_path', __( 'Bad SMS Campaigns address.', 'bkntc-sms-bridge' ) );
		}
		$body     = ( 'GET' === $method ) ? '' : (string) file_get_contents( 'php://input' );
		$headers  = self::forwarded_headers();
		$headers['X-Bkntc-Wp-Nonce'] = wp_create_nonce( self::NONCE_ACTION );

		$response = Sidecar::request( $method, $path, $body, $identity, $headers );
		if ( is_wp_error( $response ) ) {
			self::fail(
				502,
				'service_unreachable',
				sprintf(
					/* translators: 1: service URL, 2: error message. */
					__( 'The SMS Campaigns service is not reachable at %1$s (%2$s). Check that `bkntc-sms serve` is running there, and the service address under Settings → SMS Campaigns.', 'bkntc-sms-bridge' ),
					Options::sidecar_url(),
					$response->get_error_message()
				)
			);
		}
		self::send( $response );
	}

	/**
	 * The service path: `p` (must be an absolute path on the service) plus its query and
	 * every other query parameter, re-encoded canonically (RFC 3986). This exact string is
	 * what gets signed and requested.
	 *
	 * @param array $args The request's query parameters, unslashed.
	 * @return string|null
	 */
	public static function service_path( array $args ) {
		$raw = isset( $args['p'] ) && is_string( $args['p'] ) ? $args['p'] : '';
		$cut = strpos( $raw, '?' );
		$path  = false === $cut ? $raw : substr( $raw, 0, $cut );
		$query = false === $cut ? '' : substr( $raw, $cut + 1 );
		if ( ! preg_match( '#^/[A-Za-z0-9/_.\-]*$#', $path ) || false !== strpos( $path, '..' ) || 0 === strpos( $path, '//' ) ) {
			return null;
		}
		$pairs = array();
		foreach ( '' === $query ? array() : explode( '&', $query ) as $item ) {
			if ( '' === $item ) {
				continue;
			}
			$kv      = explode( '=', $item, 2 );
			$pairs[] = array( urldecode( $kv[0] ), isset( $kv[1] ) ? urldecode( $kv[1] ) : '' );
		}
		foreach ( $args as $key => $value ) {
			if ( 'action' === $key || 'p' === $key || ! is_scalar( $value ) ) {
				continue;
			}
			$pairs[] = array( (string) $key, (string) $value );
		}
		if ( ! $pairs ) {
			return $path;
		}
		$encoded = array();
		foreach ( $pairs as $pair ) {
			$encoded[] = rawurlencode( $pair[0] ) . '=' . rawurlencode( $pair[1] );
		}
		return $path . '?' . implode( '&', $encoded );
	}

	/**
	 * Browser headers worth passing on.
	 *
	 * @return array
	 */
	private static function forwarded_headers() {
		$headers = array();
		foreach ( self::FORWARD_REQUEST_HEADERS as $name ) {
			$key = 'HTTP_' . strtoupper( str_replace( '-', '_', $name ) );
			if ( 'content-type' === $name ) {
				$key = 'CONTENT_TYPE';
			}
			if ( isset( $_SERVER[ $key ] ) ) {
				$headers[ $name ] = sanitize_text_field( wp_unslash( $_SERVER[ $key ] ) );
			}
		}
		return $headers;
	}

	/**
	 * Pass the service's answer through: status, selected headers, body bytes.
	 *
	 * @param array $response wp_remote_request() result.
	 */
	private static function send( array $response ) {
		status_header( (int) wp_remote_retrieve_response_code( $response ) );
		foreach ( self::FORWARD_RESPONSE_HEADERS as $name ) {
			$value = wp_remote_retrieve_header( $response, $name );
			if ( is_array( $value ) ) {
				$value = end( $value );
			}
			if ( '' !== (string) $value ) {
				header( $name . ': ' . str_replace( array( "\r", "\n" ), '', (string) $value ) );
			}
		}
		// The body is the service's own response (HTML it escaped, JSON, CSV); the bridge
		// relays it byte for byte, as a reverse proxy would.
		echo wp_remote_retrieve_body( $response ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- relayed verbatim.
		exit;
	}

	/**
	 * Answer with an error in the shape the pages expect (JSON for API calls, a short page
	 * for everything else) and stop.
	 *
	 * @param int    $status  HTTP status.
	 * @param string $code    Error code.
	 * @param string $message What to do about it.
	 */
	private static function fail( $status, $code, $message ) {
		status_header( $status );
		$accept = isset( $_SERVER['HTTP_ACCEPT'] ) ? sanitize_text_field( wp_unslash( $_SERVER['HTTP_ACCEPT'] ) ) : '';
		if ( false !== strpos( $accept, 'application/json' ) ) {
			header( 'Content-Type: application/json; charset=utf-8' );
			echo wp_json_encode( array( 'error' => array( 'code' => $code, 'message' => $message ) ) );
			exit;
		}
		header( 'Content-Type: text/html; charset=utf-8' );
		echo '<!doctype html><html><head><meta charset="utf-8"><title>' . esc_html__( 'SMS Campaigns', 'bkntc-sms-bridge' ) . '</title></head>'
			. '<body style="font:14px/1.5 -apple-system,Segoe UI,sans-serif;background:#f5f7fa;padding:32px">'
			. '<div id="bkntc-sms-error" style="background:#fff;border-left:4px solid #ef4d56;padding:16px 20px;max-width:720px">'
			. '<strong>' . esc_html__( 'SMS Campaigns is unavailable', 'bkntc-sms-bridge' ) . '</strong><p>' . esc_html( $message ) . '</p></div></body></html>';
		exit;
	}
}
