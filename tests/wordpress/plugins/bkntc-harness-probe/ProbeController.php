<?php
/**
 * The probe's page and ajax actions (a Booknetic controller).
 *
 * @package BkntcHarnessProbe
 */

namespace BkntcHarnessProbe;

use BookneticApp\Providers\Core\Controller;

defined( 'ABSPATH' ) || exit;

/**
 * GET admin.php?page=booknetic&module=harness_probe: the state as JSON in a <pre>, inside
 * Booknetic's layout. POST (ajax=1) action=state: the state; action=loopback: WordPress calls
 * itself over HTTP while this request is being served (needs several php -S workers).
 */
class ProbeController extends Controller {

	/**
	 * The page.
	 */
	public function index() {
		$this->view( __DIR__ . '/view/probe.php', array( 'state' => ProbeAddon::state() ) );
	}

	/**
	 * Booknetic's view of this request.
	 *
	 * @return array
	 */
	public function state() {
		return ProbeAddon::state();
	}

	/**
	 * A loopback HTTP call.
	 *
	 * @return array
	 */
	public function loopback() {
		$response = wp_remote_get( home_url( '/wp-login.php' ), array( 'timeout' => 10 ) );
		return array(
			'status' => 'ok',
			'code'   => is_wp_error( $response ) ? $response->get_error_message() : wp_remote_retrieve_response_code( $response ),
		);
	}
}
