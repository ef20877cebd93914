<?php
/**
 * Wires the stand-in into WordPress, in Booknetic's order: add-ons are collected on
 * plugins_loaded (filter bkntc_addons_load); on init the core registers its capabilities and
 * fires bkntc_init (+ bkntcsaas_init in SaaS), then bkntc_backend / bkntc_frontend
 * (+ bkntcsaas_backend / bkntcsaas_frontend in SaaS), then runs the cron gate.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * The core bootstrap.
 */
final class Bootstrap {

	/**
	 * Loaded add-ons, slug => AddonLoader.
	 *
	 * @var array<string, AddonLoader>
	 */
	public static $addons = array();

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

		add_action( 'plugins_loaded', array( self::class, 'load_addons' ), 10 );
		add_action( 'init', array( self::class, 'init_app' ), 10 );
		add_filter( 'bkntc_user_capability_filter', array( Capabilities::class, 'user_capability_filter' ), 10, 2 );
		Backend::boot();
	}

	/**
	 * Collect the add-ons (plugins_loaded).
	 */
	public static function load_addons() {
		$addons = apply_filters( 'bkntc_addons_load', array() );
		foreach ( (array) $addons as $slug => $addon ) {
			if ( ! $addon instanceof AddonLoader ) {
				continue;
			}
			$slug                  = is_string( $slug ) ? $slug : $addon->getAddonSlug();
			self::$addons[ $slug ] = $addon;
		}
		foreach ( self::$addons as $slug => $addon ) {
			// Core stores the add-on's DB version after running its migrations.
			$option = 'bkntc_addon_' . $slug . '_version';
			if ( false === get_option( $option ) ) {
				add_option( $option, $addon->getVersion(), '', 'no' );
			}
		}
	}

	/**
	 * Whether an add-on is loaded (v5 API).
	 *
	 * @param string $slug Add-on slug (plugin folder).
	 * @return bool
	 */
	public static function isAddonEnabled( $slug ) {
		return isset( self::$addons[ $slug ] );
	}

	/**
	 * Fire Booknetic's own hooks (init).
	 */
	public static function init_app() {
		self::register_core_capabilities();

		$saas = Helper::isSaaSVersion();
		do_action( 'bkntc_init' );
		if ( $saas ) {
			do_action( 'bkntcsaas_init' );
		}
		if ( is_admin() ) {
			self::register_core_routes();
			do_action( 'bkntc_backend' );
			if ( $saas ) {
				do_action( 'bkntcsaas_backend' );
			}
		} else {
			do_action( 'bkntc_frontend' );
			if ( $saas ) {
				do_action( 'bkntcsaas_frontend' );
			}
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
	 * A few core modules, so the panel looks like Booknetic's.
	 */
	private static function register_core_routes() {
		Route::get( 'dashboard', \BookneticApp\Backend\Dashboard\Controller::class );
		Route::post( 'dashboard', \BookneticApp\Backend\Dashboard\Ajax::class, array( 'ping' ) );
		Route::get( 'appointments', \BookneticApp\Backend\Appointments\Controller::class );
		Route::get( 'customers', \BookneticApp\Backend\Customers\Controller::class );

		$items = array(
			'dashboard'    => array( 'Dashboard', 'fa fa-cube', 0 ),
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
