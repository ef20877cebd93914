<?php
/**
 * Twilio's public webhooks (DESIGN.md §10): two REST routes that relay Twilio's request,
 * byte for byte, to the service, which listens on a loopback or private address Twilio
 * cannot reach.
 *
 * POST /wp-json/bkntc-sms/v1/twilio/status  → the service's POST /twilio/status
 * POST /wp-json/bkntc-sms/v1/twilio/inbound → the service's POST /twilio/inbound
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * The routes and their relay. They decide nothing: the service checks the bridge signature
 * and Twilio's, and answers. Only form bodies of a bounded size go through, and only to
 * the two service paths named here.
 */
final class Webhooks {

	const REST_NAMESPACE = 'bkntc-sms/v1';

	/**
	 * Twilio posts application/x-www-form-urlencoded; nothing else is relayed.
	 */
	const CONTENT_TYPE = 'application/x-www-form-urlencoded';

	/**
	 * A status callback or an inbound SMS is a few hundred bytes of form fields (an inbound
	 * message of 10 concatenated segments with media links stays under 8 KiB).
	 */
	const MAX_BODY = 65536;

	/**
	 * The service answers these at once (one conditional UPDATE, or a suppression insert);
	 * a PHP worker held by a slow service is one fewer for the whole site.
	 */
	const TIMEOUT = 5.0;

	const FORWARD_RESPONSE_HEADERS = array( 'content-type', 'retry-after' );

	/**
	 * Twilio's own headers the service's check needs: the signature, and the settings
	 * header that names its algorithm (HMAC-SHA256) when the account signs that way.
	 */
	const FORWARD_REQUEST_HEADERS = array( 'X-Twilio-Signature', 'X-Twilio-Webhooks-Signature-Settings' );

	/**
	 * Route (under the namespace) → the one service path it relays to.
	 */
	const ROUTES = array(
		'/twilio/status'  => '/twilio/status',
		'/twilio/inbound' => '/twilio/inbound',
	);

	/**
	 * The public base the service builds Twilio's callback URLs on (<base>twilio/status),
	 * as WordPress names its REST API here: /wp-json/bkntc-sms/v1/, or
	 * /index.php?rest_route=/bkntc-sms/v1/ without pretty permalinks.
	 *
	 * @return string
	 */
	public static function public_base_url() {
		return rest_url( self::REST_NAMESPACE . '/' );
	}

	/**
	 * The rest_api_init hook: register the two routes.
	 */
	public static function register_routes() {
		foreach ( array_keys( self::ROUTES ) as $route ) {
			register_rest_route(
				self::REST_NAMESPACE,
				$route,
				array(
					// POST only: WordPress answers any other method like an unknown route
					// (404 rest_no_route) without calling the relay.
					'methods'             => 'POST',
					'callback'            => array( self::class, 'relay' ),
					// Public on purpose: Twilio cannot log in to WordPress. Nothing is
					// trusted here; the service verifies Twilio's signature (over the
					// public URL and the form fields, with the account's Auth Token) and
					// changes nothing when it does not hold.
					'permission_callback' => '__return_true',
				)
			);
		}
	}

	/**
	 * Relay one webhook to the service and return the service's answer (status, content
	 * type and body, served raw by serve_raw()), or a WordPress REST error when the request
	 * is refused here or the service cannot be reached. Changes nothing in WordPress.
	 *
	 * @param \WP_REST_Request $request The request Twilio made.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function relay( \WP_REST_Request $request ) {
		$service_path = self::service_path( $request->get_route() );
		if ( null === $service_path ) {
			return new \WP_Error( 'rest_no_route', __( 'No route was found matching the URL and request method.', 'bkntc-sms-bridge' ), array( 'status' => 404 ) );
		}
		$type = $request->get_content_type();
		if ( null === $type || self::CONTENT_TYPE !== $type['value'] ) {
			return new \WP_Error(
				'bkntc_sms_content_type',
				/* translators: %s: the one accepted content type. */
				sprintf( __( 'Twilio webhooks are sent as %s; nothing else is accepted here.', 'bkntc-sms-bridge' ), self::CONTENT_TYPE ),
				array( 'status' => 415 )
			);
		}
		$body = $request->get_body();
		if ( strlen( $body ) > self::MAX_BODY ) {
			return new \WP_Error(
				'bkntc_sms_too_large',
				/* translators: %d: the size limit in bytes. */
				sprintf( __( 'The request body is larger than %d bytes.', 'bkntc-sms-bridge' ), self::MAX_BODY ),
				array( 'status' => 413 )
			);
		}
		$headers = array(
			'Content-Type'       => self::header_value( $request->get_header( 'content_type' ) ),
			'X-Bkntc-Public-Url' => self::public_url(),
		);
		foreach ( self::FORWARD_REQUEST_HEADERS as $name ) {
			$value = $request->get_header( $name );
			if ( null !== $value ) {
				// Passed on as received, also when empty: the service says what is wrong.
				$headers[ $name ] = self::header_value( $value );
			}
		}
		$response = Sidecar::request( 'POST', $service_path, $body, Identity::twilio_webhook(), $headers, self::TIMEOUT );
		if ( is_wp_error( $response ) ) {
			// The reason (and the service's address) stays private: this answer goes to the
			// internet. Twilio records the failed webhook in its console.
			return new \WP_Error( 'bkntc_sms_service_unreachable', __( 'The SMS Campaigns service did not answer.', 'bkntc-sms-bridge' ), array( 'status' => 502 ) );
		}
		$result = new \WP_REST_Response( (string) wp_remote_retrieve_body( $response ), (int) wp_remote_retrieve_response_code( $response ) );
		foreach ( self::FORWARD_RESPONSE_HEADERS as $name ) {
			$value = wp_remote_retrieve_header( $response, $name );
			if ( is_array( $value ) ) {
				$value = end( $value );
			}
			if ( '' !== (string) $value ) {
				$result->header( $name, self::header_value( (string) $value ) );
			}
		}
		return $result;
	}

	/**
	 * The rest_pre_serve_request filter: send a relayed answer as the service gave it (no
	 * JSON encoding, and no WordPress content type when the service sent none, as with
	 * 204). Everything else, our refusals included, WordPress serves as JSON.
	 *
	 * @param bool              $served  Whether the request was already served.
	 * @param \WP_HTTP_Response $result  The response to send.
	 * @param \WP_REST_Request  $request The request.
	 * @param \WP_REST_Server   $server  The REST server.
	 * @return bool
	 */
	public static function serve_raw( $served, $result, $request, $server ) {
		if ( $served || ! $result instanceof \WP_REST_Response || ! is_string( $result->get_data() )
			|| null === self::service_path( $result->get_matched_route() ) ) {
			return $served;
		}
		$headers = array_change_key_case( $result->get_headers(), CASE_LOWER );
		if ( ! isset( $headers['content-type'] ) ) {
			$server->remove_header( 'Content-Type' );
		}
		// The service's own answer (empty, or a TwiML/JSON body it built), relayed byte for
		// byte as a reverse proxy would.
		echo $result->get_data(); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- relayed verbatim.
		return true;
	}

	/**
	 * The service path for a matched REST route, or null when the route is not ours.
	 *
	 * @param string $route E.g. /bkntc-sms/v1/twilio/status.
	 * @return string|null
	 */
	private static function service_path( $route ) {
		$prefix = '/' . self::REST_NAMESPACE;
		if ( ! is_string( $route ) || 0 !== strpos( $route, $prefix ) ) {
			return null;
		}
		// WordPress matches routes case-insensitively; the service path is ours, fixed.
		$route = strtolower( substr( $route, strlen( $prefix ) ) );
		return isset( self::ROUTES[ $route ] ) ? self::ROUTES[ $route ] : null;
	}

	/**
	 * The URL Twilio requested, which its signature covers: scheme://host[:port] as the site
	 * names itself (rest_url(), so the home URL, and https when WordPress sees the request
	 * as secure), then the path and query exactly as requested.
	 *
	 * Why not the request's own Host and scheme: behind a TLS-terminating proxy or a load
	 * balancer PHP sees http:// and an internal host name, while Twilio signed the public
	 * https:// URL — the one it was given, which the service built from the option that
	 * rest_url() wrote. The Host header is also the client's to choose. Why not rest_url()
	 * for the path too: Twilio signs the URL it called, byte for byte, and /wp-json/… and
	 * /index.php?rest_route=… both reach these routes, with any query string kept.
	 *
	 * @return string
	 */
	private static function public_url() {
		$site   = wp_parse_url( rest_url() );
		$origin = ( isset( $site['scheme'] ) ? $site['scheme'] : 'http' ) . '://'
			. ( isset( $site['host'] ) ? $site['host'] : '' )
			. ( isset( $site['port'] ) ? ':' . $site['port'] : '' );
		// Unslashed (WordPress slashes $_SERVER), never sanitised: one changed byte and
		// Twilio's signature no longer matches. It only travels as a header to the service,
		// which checks it starts with the public base.
		$uri = isset( $_SERVER['REQUEST_URI'] ) ? (string) wp_unslash( $_SERVER['REQUEST_URI'] ) : '/'; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- must stay byte-exact, see above.
		return self::header_value( $origin . $uri );
	}

	/**
	 * A value safe to put in a header line (no CR/LF).
	 *
	 * @param string|null $value Value.
	 * @return string
	 */
	private static function header_value( $value ) {
		return str_replace( array( "\r", "\n" ), '', (string) $value );
	}
}
