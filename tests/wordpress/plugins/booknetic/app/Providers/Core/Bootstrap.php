<?php
/**
 * Wires the stand-in into WordPress in Booknetic 5.2.2's order: on plugins_loaded
 * `Bootstrap::$addons = apply_filters('bkntc_addons_load', [])` (the keys the add-ons chose,
 * no filtering), then initDependencies()/initRestRoutes() of each add-on not blocked; on init
 * (priority 10; the SaaS plugin's own init runs at 9 and fires bkntcsaas_init first) initApp:
 * the add-on migration check (PluginService), bkntc_init, then Frontend::init() (bkntc_frontend)
 * for the front end and for every admin-ajax.php request, else Backend::init() (whose
 * bkntc_backend fires on admin_init of the Booknetic page only), then the cron gate.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Common\PluginService;
use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * The core bootstrap.
 */
final class Bootstrap {

	/**
	 * Loaded add-ons, as bkntc_addons_load returned them (slug => AddonLoader).
	 *
	 * @var AddonLoader[]
	 */
	public static array $addons = array();

	/**
	 * Whether boot() ran.
	 *
	 * @var bool
	 */
	private static $booted = false;

	/**
	 * Hook the core into WordPress (called from init.php).
	 */
	public static function boot() {
		if ( self::$booted ) {
			return;
		}
		self::$booted = true;

		add_action( 'plugins_loaded', array( self::class, 'load_addons' ) );
		add_action( 'init', array( self::class, 'initApp' ), 10 );
		add_filter( 'bkntc_user_capability_filter', array( Capabilities::class, 'user_capability_filter' ), 10, 2 );
	}

	/**
	 * Collect the add-ons (plugins_loaded).
	 */
	public static function load_addons() {
		static::$addons = apply_filters( 'bkntc_addons_load', array() );
		foreach ( static::$addons as $addon ) {
			if ( ! $addon->shouldBlock() ) {
				$addon->initDependencies();
				$addon->initRestRoutes();
			}
		}
	}

	/**
	 * Whether an add-on is loaded (v5 API).
	 *
	 * @param string $slug Add-on slug (plugin folder).
	 * @return bool
	 */
	public static function isAddonEnabled( string $slug ): bool {
		return isset( self::$addons[ $slug ] );
	}

	/**
	 * Booknetic's request start (init).
	 */
	public static function initApp(): void {
		self::register_core_capabilities();
		( new PluginService() )->fetchAndRunAddonsMigrationData();

		do_action( 'bkntc_init' );

		if ( ! Helper::isAdmin() || ( Helper::isAjax() && ! Helper::isUpdateProcess() ) ) {
			Frontend::init();
		} elseif ( Helper::isAdmin() ) {
			Backend::init();
		}

		CronJob::init();
	}

	/**
	 * The core's user and tenant capabilities (a subset of Booknetic's list).
	 */
	private static function register_core_capabilities() {
		$user_capabilities = array(
			'dashboard'    => 'Dashboard',
			'appointments' => 'Appointments',
			'calendar'     => 'Calendar',
			'customers'    => 'Customers',
			'payments'     => 'Payments',
			'staff'        => 'Staff',
			'services'     => 'Services',
			'locations'    => 'Locations',
			'workflow'     => 'Workflows',
			'settings'     => 'Settings',
		);
		foreach ( $user_capabilities as $capability => $title ) {
			Capabilities::register( $capability, $title );
		}
		Capabilities::registerTenantCapability( 'workflow', 'Workflows' );
	}

	/**
	 * A few core modules, so the panel looks like Booknetic's (Backend, on the Booknetic page).
	 */
	public static function register_core_routes() {
		Route::get( 'dashboard', \BookneticApp\Backend\Dashboard\Controller::class );
		Route::post( 'dashboard', \BookneticApp\Backend\Dashboard\Ajax::class, array( 'ping' ) );
		Route::get( 'appointments', \BookneticApp\Backend\Appointments\Controller::class );
		Route::get( 'customers', \BookneticApp\Backend\Customers\Controller::class );

		$items = array(
			'dashboard'    => array( 'Dashboard', 'fa fa-cube', 1 ),
			'appointments' => array( 'Appointments', 'fa fa-calendar-check', 10 ),
			'customers'    => array( 'Customers', 'fa fa-users', 30 ),
		);
		foreach ( $items as $slug => list( $title, $icon, $priority ) ) {
			if ( Capabilities::userCan( $slug ) ) {
				\BookneticApp\Providers\UI\MenuUI::get( $slug )->setTitle( $title )->setIcon( $icon )->setPriority( $priority );
			}
		}
	}
}
