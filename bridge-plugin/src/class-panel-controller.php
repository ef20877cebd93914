<?php
/**
 * The Booknetic panel page that shows the service's pages.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

use BookneticApp\Providers\Core\Controller;

defined( 'ABSPATH' ) || exit;

/**
 * Renders, inside Booknetic's layout, an iframe whose source is this site's own relay URL
 * (same origin), so the browser never talks to the service directly.
 */
class PanelController extends Controller {

	const MODULE = 'sms_campaigns';
	const HANDLE = 'bkntc-sms-panel';

	/**
	 * The page (admin.php?page=booknetic&module=sms_campaigns).
	 */
	public function index() {
		$allowed = in_array( Booknetic::TENANT_GATE, Booknetic::user_capabilities(), true );
		if ( $allowed ) {
			wp_enqueue_style( self::HANDLE, plugins_url( 'assets/panel.css', PLUGIN_FILE ), array(), VERSION );
			wp_enqueue_script( self::HANDLE, plugins_url( 'assets/panel.js', PLUGIN_FILE ), array(), VERSION, true );
		}
		$this->view(
			dirname( __DIR__ ) . '/views/panel.php',
			array(
				'frame_src' => $allowed ? Relay::url( '/ui/campaigns' ) : '',
				'message'   => $allowed ? '' : __( 'You do not have access to SMS Campaigns.', 'bkntc-sms-bridge' ),
			)
		);
	}

	/**
	 * Booknetic's layout is a page of its own (no wp_head()): it offers the hook
	 * bkntc_enqueue_assets in its <head>, where the enqueued style and script are printed.
	 *
	 * @param string $module Booknetic module of the page.
	 * @param string $action Its action.
	 */
	public static function print_assets( $module, $action = '' ) {
		unset( $action );
		if ( self::MODULE !== $module ) {
			return;
		}
		wp_print_styles( array( self::HANDLE ) );
		wp_print_scripts( array( self::HANDLE ) );
	}
}
