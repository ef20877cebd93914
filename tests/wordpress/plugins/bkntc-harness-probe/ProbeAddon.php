<?php
/**
 * The probe add-on.
 *
 * @package BkntcHarnessProbe
 */

namespace BkntcHarnessProbe;

use BookneticApp\Providers\Core\AddonLoader;
use BookneticApp\Providers\Core\Bootstrap;
use BookneticApp\Providers\Core\Capabilities;
use BookneticApp\Providers\Core\Permission;
use BookneticApp\Providers\Core\Route;
use BookneticApp\Providers\Helpers\Helper;
use BookneticApp\Providers\UI\MenuUI;

defined( 'ABSPATH' ) || exit;

/**
 * Registers what an SMS add-on would, and reports what Booknetic says about the user.
 */
class ProbeAddon extends AddonLoader {

	const CAPABILITY = 'harness_probe';
	const GATE       = 'sms_campaigns';
	const CRON_RUNS  = 'bkntc_probe_cron_runs';

	/**
	 * Capabilities and the cron tick.
	 */
	public function init() {
		Capabilities::registerTenantCapability( self::GATE, 'SMS campaigns' );
		Capabilities::register( self::CAPABILITY, 'Harness probe' );
		add_action( 'bkntc_cronjob', array( self::class, 'on_cron' ) );
		add_action(
			'wp_ajax_bkntc_probe_state',
			static function () {
				wp_send_json( self::state() );
			}
		);
	}

	/**
	 * Routes and the gated menu item.
	 */
	public function initBackend() {
		Route::get( 'harness_probe', ProbeController::class );
		Route::post( 'harness_probe', ProbeController::class, array( 'state', 'loopback' ) );
		if ( Capabilities::tenantCan( self::GATE ) && Capabilities::userCan( self::CAPABILITY ) ) {
			MenuUI::get( 'harness_probe' )->setTitle( 'Harness probe' )->setIcon( 'fa fa-flask' )->setPriority( 50 );
		}
	}

	/**
	 * What Booknetic says about the current request.
	 *
	 * @return array
	 */
	public static function state() {
		return array(
			'status'         => 'ok',
			'user_id'        => Permission::userId(),
			'tenant_id'      => Permission::tenantId(),
			'is_admin'       => Permission::isAdministrator(),
			'saas'           => Helper::isSaaSVersion(),
			'user_can'       => Capabilities::userCan( self::CAPABILITY ),
			'user_can_staff' => Capabilities::userCan( 'customers' ),
			'tenant_can'     => Capabilities::tenantCan( self::GATE ),
			'addons'         => array_keys( Bootstrap::$addons ),
			'slug'           => Bootstrap::$addons['bkntc-harness-probe']->getAddonSlug(),
			'hooks'          => array( did_action( 'bkntc_init' ), did_action( 'bkntc_backend' ), did_action( 'bkntc_frontend' ) ),
		);
	}

	/**
	 * Count bkntc_cronjob runs.
	 */
	public static function on_cron() {
		update_option( self::CRON_RUNS, (int) get_option( self::CRON_RUNS, 0 ) + 1, false );
	}
}
