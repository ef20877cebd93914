<?php
/**
 * A fire-and-forget loopback request, as Booknetic's vendored wp-background-processing sends it.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Helpers;

defined( 'ABSPATH' ) || exit;

/**
 * The behaviour Booknetic relies on (written for the stand-in): the identifier is
 * <prefix>_<action>; constructing hooks wp_ajax_ and wp_ajax_nopriv_<identifier>; dispatch()
 * POSTs admin_url('admin-ajax.php')?action=<identifier>&nonce=<wp_create_nonce(identifier)>
 * with timeout 0.01, blocking false and the current request's cookies (so the loopback runs
 * as the same user); the handler checks the nonce with check_ajax_referer(identifier,
 * 'nonce'), calls handle() and wp_die()s.
 */
abstract class AsyncRequest {

	/**
	 * Identifier prefix.
	 *
	 * @var string
	 */
	protected $prefix = 'wp';

	/**
	 * Action name.
	 *
	 * @var string
	 */
	protected $action = 'async_request';

	/**
	 * <prefix>_<action>.
	 *
	 * @var string
	 */
	protected $identifier;

	/**
	 * Hook the admin-ajax.php handler.
	 */
	public function __construct() {
		$this->identifier = $this->prefix . '_' . $this->action;
		add_action( 'wp_ajax_' . $this->identifier, array( $this, 'maybe_handle' ) );
		add_action( 'wp_ajax_nopriv_' . $this->identifier, array( $this, 'maybe_handle' ) );
	}

	/**
	 * Send the loopback and return at once.
	 *
	 * @return array|\WP_Error
	 */
	public function dispatch() {
		$url = add_query_arg(
			array(
				'action' => $this->identifier,
				'nonce'  => wp_create_nonce( $this->identifier ),
			),
			admin_url( 'admin-ajax.php' )
		);
		return wp_remote_post(
			esc_url_raw( $url ),
			array(
				'timeout'   => 0.01,
				'blocking'  => false,
				'body'      => array(),
				'cookies'   => $_COOKIE, // phpcs:ignore WordPressVIPMinimum.Variables.RestrictedVariables -- the library forwards them.
				'sslverify' => false,
			)
		);
	}

	/**
	 * The loopback's handler.
	 */
	public function maybe_handle() {
		session_write_close();
		check_ajax_referer( $this->identifier, 'nonce' );
		$this->handle();
		wp_die();
	}

	/**
	 * The work.
	 */
	abstract protected function handle();
}
