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
 * Renders an iframe whose source is this site's own relay URL (same origin), so the
 * browser never talks to the service directly.
 */
class PanelController extends Controller {

	const MODULE = 'sms_campaigns';

	/**
	 * The page (admin.php?page=booknetic&module=sms_campaigns).
	 */
	public function index() {
		if ( ! in_array( Booknetic::TENANT_GATE, Booknetic::user_capabilities(), true ) ) {
			echo '<div class="notice notice-error"><p>' . esc_html__( 'You do not have access to SMS Campaigns.', 'bkntc-sms-bridge' ) . '</p></div>';
			return;
		}
		$this->view(
			dirname( __DIR__ ) . '/views/panel.php',
			array( 'frame_src' => Relay::url( '/ui/campaigns' ) )
		);
	}
}
