<?php
/**
 * Registration with Booknetic as an add-on. Loaded only when Booknetic is.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

use BookneticApp\Providers\Core\AddonLoader;
use BookneticApp\Providers\Core\Capabilities;
use BookneticApp\Providers\Core\Route;
use BookneticApp\Providers\UI\MenuUI;

defined( 'ABSPATH' ) || exit;

/**
 * The SMS Campaigns add-on: capabilities, the panel route and the left-menu item.
 */
class Addon extends AddonLoader {

	/**
	 * Font Awesome 5.15 (what Booknetic's panel loads) has `fa-sms`; FA 6's `fa-comment-sms`
	 * would be blank there.
	 */
	const MENU_ICON = 'fa fa-sms';

	/**
	 * The add-on's version. Booknetic's own getVersion() reads <slug>/init.php, which this
	 * plugin does not have (its main file is bkntc-sms-bridge.php): every request would log
	 * a file_get_contents() warning. An init.php is no way out either: Booknetic would then
	 * ask the licence server for migrations whenever its version record is behind.
	 *
	 * @return string
	 */
	public static function getVersion() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName -- Booknetic's API.
		return VERSION;
	}

	/**
	 * Capabilities and the tenant gate (bkntc_init).
	 */
	public function init() {
		Capabilities::registerTenantCapability( Booknetic::TENANT_GATE, __( 'SMS Campaigns', 'bkntc-sms-bridge' ) );
		if ( ! Capabilities::tenantCan( Booknetic::TENANT_GATE ) ) {
			return;
		}
		foreach ( Booknetic::capability_titles() as $capability => $title ) {
			$parent = ( Booknetic::TENANT_GATE === $capability ) ? false : Booknetic::TENANT_GATE;
			Capabilities::register( $capability, $title, $parent );
		}
	}

	/**
	 * The panel route, its assets and, for users who may see it, the menu item
	 * (bkntc_backend: Booknetic's page only).
	 */
	public function initBackend() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName -- Booknetic's API.
		if ( ! Capabilities::tenantCan( Booknetic::TENANT_GATE ) ) {
			return;
		}
		Route::get( PanelController::MODULE, PanelController::class );
		add_action( 'bkntc_enqueue_assets', array( PanelController::class, 'print_assets' ), 10, 2 );
		if ( Capabilities::userCan( Booknetic::TENANT_GATE ) ) {
			// Booknetic's layout prints menu titles unescaped.
			MenuUI::get( PanelController::MODULE )
				->setTitle( esc_html__( 'SMS Campaigns', 'bkntc-sms-bridge' ) )
				->setIcon( self::MENU_ICON )
				->setPriority( 850 );
		}
	}
}
