<?php
/**
 * The Booknetic admin page and its ajax entry point, as 5.2.2 serves them.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * Backend::init() runs on init for admin requests that are not admin-ajax.php. It marks the
 * request as back end and, for users who may use Booknetic, adds the WP menu entry and an
 * admin_init callback: on admin.php?page=<slug> it fires bkntc_backend, runs the route
 * (Route::init(): a page renders Booknetic's own standalone layout, an ajax=1 POST answers
 * JSON) and exits — WordPress's admin header, footer and admin_enqueue_scripts never run
 * there. An unknown route renders the layout around Base/view/404.php (the stand-in also
 * answers 404) or, for POSTs, Booknetic's JSON error.
 */
class Backend {

	const MENU_SLUG   = 'booknetic';
	const MODULES_DIR = BKNTC_STANDIN_DIR . '/app/Backend/';

	/**
	 * The admin start.
	 */
	public static function init() {
		Permission::setAsBackEnd();
		if ( ! Permission::canUseBooknetic() ) {
			return;
		}
		add_action( 'admin_menu', array( self::class, 'register_menu' ) );
		add_action( 'admin_init', array( self::class, 'handle_request' ) );
	}

	/**
	 * The WP admin menu entry (its callback does nothing: the page exited on admin_init).
	 */
	public static function register_menu() {
		add_menu_page( 'Booknetic', 'Booknetic', 'read', self::getSlugName(), array( self::class, 'initMenu' ), 'dashicons-calendar-alt', 90 );
	}

	/**
	 * Menu page callback.
	 */
	public static function initMenu(): void {
	}

	/**
	 * The Booknetic page (admin_init): bkntc_backend, the route, exit.
	 */
	public static function handle_request() {
		if ( Helper::_get( 'page', '', 'string' ) !== self::getSlugName() || ! is_user_logged_in() ) {
			return;
		}
		Bootstrap::register_core_routes();
		do_action( 'bkntc_backend' );
		try {
			Route::init();
		} catch ( \Exception $e ) {
			if ( isset( $_SERVER['REQUEST_METHOD'] ) && 'GET' === $_SERVER['REQUEST_METHOD'] ) {
				status_header( 404 );
				$childViewFile = self::MODULES_DIR . 'Base/view/404.php'; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
				$currentModule = 'base'; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
				$currentAction = '404'; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
				$fullViewPath  = self::MODULES_DIR . 'Base/view/index.php'; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
				$parameters    = array();
				require_once $fullViewPath; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			} else {
				status_header( 404 );
				$message = '' !== $e->getMessage() ? $e->getMessage() : 'Page not found or access denied!';
				echo wp_json_encode( Helper::response( false, $message, true ) );
			}
		}
		exit();
	}

	/**
	 * The page slug (SaaS: the option bkntc_backend_slug).
	 *
	 * @return string
	 */
	public static function getSlugName() {
		if ( Helper::isSaaSVersion() ) {
			$slug = (string) get_option( 'bkntc_backend_slug', self::MENU_SLUG );
			return '' !== $slug ? $slug : self::MENU_SLUG;
		}
		return apply_filters( 'booknetic_backend_slug', self::MENU_SLUG );
	}
}
