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
	 * Capabilities and the tenant gate (bkntc_init).
	 */
	public function init() {
		Capabilities::registerTenantCapability( Booknetic::TENANT_GATE, 'SMS Campaigns' );
		if ( ! Capabilities::tenantCan( Booknetic::TENANT_GATE ) ) {
			return;
		}
		foreach ( Booknetic::CAPABILITIES as $capability => $title ) {
			$parent = ( Booknetic::TENANT_GATE === $capability ) ? false : Booknetic::TENANT_GATE;
			Capabilities::register( $capability, $title, $parent );
		}
	}

	/**
	 * The panel route and, for users who may see it, the menu item (bkntc_backend).
	 */
	public function initBackend() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName -- Booknetic's API.
		if ( ! Capabilities::tenantCan( Booknetic::TENANT_GATE ) ) {
			return;
		}
		Route::get( PanelController::MODULE, PanelController::class );
		if ( Capabilities::userCan( Booknetic::TENANT_GATE ) ) {
			MenuUI::get( PanelController::MODULE )
				->setTitle( __( 'SMS Campaigns', 'bkntc-sms-bridge' ) )
				->setIcon( 'fa fa-comment-sms' )
				->setPriority( 850 );
		}
	}
}
