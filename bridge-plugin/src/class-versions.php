<?php
/**
 * The service's version next to the plugin's: one release has one version for both parts.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Reads the service's version from its /healthz, remembers the last answer, and says which
 * part to update when the two releases differ in major.minor (a patch difference is fine).
 */
final class Versions {

	const TIMEOUT = 3.0;

	/**
	 * Ask the service (GET /healthz: unsigned, answers {"status":"ok","version":"X.Y.Z"}) and
	 * remember the answer in Options::SERVICE_VERSION. A service before 0.2 answers without
	 * a version: that is remembered as ''.
	 *
	 * @return string|\WP_Error The version ('' when the service reports none).
	 */
	public static function refresh() {
		// wp_remote_get, not wp_safe_remote_get: the service listens on a loopback or private
		// address (tech-notes §6.1).
		$response = wp_remote_get(
			Options::sidecar_url() . '/healthz',
			array(
				'timeout'     => self::TIMEOUT,
				'redirection' => 0,
			)
		);
		if ( is_wp_error( $response ) ) {
			return $response;
		}
		$data = json_decode( wp_remote_retrieve_body( $response ), true );
		if ( 200 !== (int) wp_remote_retrieve_response_code( $response ) || ! is_array( $data ) ) {
			return new \WP_Error( 'bkntc_sms_healthz', __( 'The service did not answer its health check.', 'bkntc-sms-bridge' ) );
		}
		$version = isset( $data['version'] ) && is_string( $data['version'] ) ? $data['version'] : '';
		update_option(
			Options::SERVICE_VERSION,
			array(
				'version' => $version,
				'at'      => time(),
			),
			false
		);
		return $version;
	}

	/**
	 * The service's version as last read, or null if it was never read.
	 *
	 * @return string|null
	 */
	public static function service() {
		$stored = get_option( Options::SERVICE_VERSION );
		return is_array( $stored ) && isset( $stored['version'] ) ? (string) $stored['version'] : null;
	}

	/**
	 * "MAJOR.MINOR" of a version; '0.1' for a service that reports none (versions before 0.2
	 * had no version in /healthz).
	 *
	 * @param string $version A version such as 0.2.0.
	 * @return string
	 */
	public static function major_minor( $version ) {
		if ( ! preg_match( '/^(\d+)\.(\d+)/', (string) $version, $m ) ) {
			return '0.1';
		}
		return $m[1] . '.' . $m[2];
	}

	/**
	 * What to update, when the last known service version and this plugin differ.
	 *
	 * @return array|null { part: 'service'|'plugin', to: 'X.Y', service: string, plugin: string }
	 */
	public static function mismatch() {
		$service = self::service();
		if ( null === $service ) {
			return null;
		}
		$ours   = self::major_minor( VERSION );
		$theirs = self::major_minor( $service );
		if ( $ours === $theirs ) {
			return null;
		}
		$service_older = version_compare( $theirs . '.0', $ours . '.0', '<' );
		return array(
			'part'    => $service_older ? 'service' : 'plugin',
			'to'      => $service_older ? $ours : $theirs,
			'service' => '' === $service ? __( 'a version before 0.2', 'bkntc-sms-bridge' ) : $service,
			'plugin'  => VERSION,
		);
	}
}
