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

	const TIMEOUT        = 10.0;
	const EXPORT_TIMEOUT = 60.0;

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
		if ( Booknetic::is_saas_platform_owner() ) {
			// Booknetic keeps the platform owner out of the tenants' panel
			// (Permission::canUseBooknetic()); SMS Campaigns belongs to each tenant.
			self::fail( 403, 'saas_owner', __( 'SMS Campaigns belongs to each business on your platform, and the platform owner cannot open it. Log in as a tenant (or a staff member a tenant gave access) to use it.', 'bkntc-sms-bridge' ) );
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- only the presence of the names is checked.
		if ( array_intersect( Booknetic::TENANT_PARAMETERS, array_keys( $_REQUEST ) ) ) {
			// Booknetic would take the tenant from these on an admin-ajax.php request
			// instead of from the user; the signed tenant must be the user's own.
			self::fail( 400, 'tenant_parameter', __( 'The address must not name a tenant (tenant_id or bkntc_page_id): SMS Campaigns always works for the tenant you are logged in to.', 'bkntc-sms-bridge' ) );
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
		$path = self::service_path( self::query_arguments() );
		if ( null === $path ) {
			self::fail( 400, 'bad_path', __( 'Bad SMS Campaigns address.', 'bkntc-sms-bridge' ) );
		}
		$body    = ( 'GET' === $method ) ? '' : (string) file_get_contents( 'php://input' );
		$headers = self::forwarded_headers();

		$headers['X-Bkntc-Wp-Nonce'] = wp_create_nonce( self::NONCE_ACTION );

		$response = Sidecar::request( $method, $path, $body, $identity, $headers, self::timeout_for( $path ) );
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
	 * How long WordPress waits for the service. Pages and API calls answer in well under a
	 * second, and a PHP worker held by a slow service is one fewer for the whole site, so they
	 * get a short bound. The CSV export is the exception: it builds a file of up to several
	 * thousand rows that the user asked for and waits on, so it may take longer.
	 *
	 * @param string $path Service path with query.
	 * @return float Seconds.
	 */
	public static function timeout_for( $path ) {
		return preg_match( '#^/api/v1/campaigns/\d+/logs\.csv(\?|$)#', $path ) ? self::EXPORT_TIMEOUT : self::TIMEOUT;
	}

	/**
	 * The query parameters the relay forwards: every scalar one but `action`, unslashed one
	 * by one (arrays are never forwarded, so never read).
	 *
	 * @return array<string, string>
	 */
	private static function query_arguments() {
		$args = array();
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- reads are capability-checked above; writes were nonce-checked.
		foreach ( $_GET as $key => $value ) {
			if ( 'action' !== $key && is_scalar( $value ) ) {
				$args[ (string) $key ] = (string) wp_unslash( $value ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- forwarded verbatim; the service validates.
			}
		}
		return $args;
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
			. '<body style="font:14px/1.5 sans-serif;background:#f5f7fa;padding:32px">'
			. '<div id="bkntc-sms-error" style="background:#fff;border-left:4px solid #ef4d56;padding:16px 20px;max-width:720px">'
			. '<strong>' . esc_html__( 'SMS Campaigns is unavailable', 'bkntc-sms-bridge' ) . '</strong><p>' . esc_html( $message ) . '</p></div></body></html>';
		exit;
	}
}
