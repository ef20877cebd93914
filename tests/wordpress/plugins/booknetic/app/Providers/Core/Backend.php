<?php
/**
 * The Booknetic admin page and its ajax entry point.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;
use BookneticApp\Providers\UI\MenuUI;

defined( 'ABSPATH' ) || exit;

/**
 * admin.php?page=booknetic: the module route runs on admin_init (so a controller may still
 * redirect) and its output is shown inside the panel; admin.php?page=booknetic&ajax=1 runs a
 * POST route and answers JSON.
 */
class Backend {

	/**
	 * The module's rendered output.
	 *
	 * @var string
	 */
	private static $html = '';

	/**
	 * The module shown.
	 *
	 * @var string
	 */
	private static $module = '';

	/**
	 * Hook into WordPress.
	 */
	public static function boot() {
		add_action( 'admin_menu', array( self::class, 'register_menu' ) );
		add_action( 'admin_init', array( self::class, 'handle_request' ) );
		add_action( 'admin_enqueue_scripts', array( self::class, 'enqueue' ) );
	}

	/**
	 * Whether this request is for the Booknetic page.
	 *
	 * @return bool
	 */
	public static function is_booknetic_page() {
		return isset( $_GET['page'] ) && Helper::getBackendSlug() === $_GET['page']; // phpcs:ignore WordPress.Security.NonceVerification
	}

	/**
	 * The WP admin menu entry.
	 */
	public static function register_menu() {
		if ( ! Permission::canUseBooknetic() ) {
			return;
		}
		add_menu_page( 'Booknetic', 'Booknetic', 'read', Helper::getBackendSlug(), array( self::class, 'render_page' ), 'dashicons-calendar-alt', 2 );
	}

	/**
	 * The panel's stylesheet.
	 */
	public static function enqueue() {
		if ( self::is_booknetic_page() ) {
			wp_enqueue_style( 'booknetic-panel', plugins_url( 'assets/panel.css', BKNTC_STANDIN_FILE ), array(), '4.4.1' );
		}
	}

	/**
	 * Run the route of this request (admin_init).
	 */
	public static function handle_request() {
		if ( ! self::is_booknetic_page() || ! Permission::canUseBooknetic() ) {
			return;
		}
		// phpcs:disable WordPress.Security.NonceVerification
		if ( ! empty( $_GET['ajax'] ) ) {
			$module = isset( $_POST['module'] ) ? sanitize_key( wp_unslash( $_POST['module'] ) ) : '';
			$action = isset( $_POST['action'] ) ? sanitize_key( wp_unslash( $_POST['action'] ) ) : '';
			self::handle_ajax( $module, $action );
			exit;
		}
		$module = isset( $_GET['module'] ) ? sanitize_key( wp_unslash( $_GET['module'] ) ) : 'dashboard';
		$action = isset( $_GET['action'] ) ? sanitize_key( wp_unslash( $_GET['action'] ) ) : 'index';
		// phpcs:enable

		self::$module = $module;
		ob_start();
		try {
			$outcome = Route::dispatch( 'get', $module, $action );
			if ( ! $outcome['found'] ) {
				status_header( 404 );
				echo '<div class="bkntc-not-found" id="bkntc-not-found"><h2>404</h2><p>Page not found: ' . esc_html( $module ) . '</p></div>';
			} elseif ( is_string( $outcome['result'] ) ) {
				echo $outcome['result']; // phpcs:ignore WordPress.Security.EscapeOutput
			}
		} catch ( CapabilitiesException $e ) {
			status_header( 403 );
			echo '<div class="bkntc-permission-denied" id="bkntc-permission-denied"><p>' . esc_html( $e->getMessage() ) . '</p></div>';
		}
		self::$html = (string) ob_get_clean();
	}

	/**
	 * Run a POST route and answer JSON.
	 *
	 * @param string $module Module.
	 * @param string $action Action.
	 */
	private static function handle_ajax( $module, $action ) {
		try {
			$outcome = Route::dispatch( 'post', $module, $action );
		} catch ( CapabilitiesException $e ) {
			wp_send_json(
				array(
					'status'    => 'error',
					'error_msg' => $e->getMessage(),
				),
				403
			);
		}
		if ( ! $outcome['found'] ) {
			wp_send_json(
				array(
					'status'    => 'error',
					'error_msg' => 'Unknown module or action.',
				),
				404
			);
		}
		$result = $outcome['result'];
		wp_send_json( is_array( $result ) ? $result : array( 'status' => 'ok' ) );
	}

	/**
	 * The panel (menu page callback).
	 */
	public static function render_page() {
		$parameters = array(
			'menu'      => MenuUI::getItems( MenuUI::MENU_TYPE_LEFT ),
			'top_menu'  => MenuUI::getItems( MenuUI::MENU_TYPE_TOP_RIGHT ),
			'module'    => self::$module,
			'content'   => self::$html,
			'tenant_id' => Permission::tenantId(),
			'saas'      => Helper::isSaaSVersion(),
		);
		( new Controller() )->view( BKNTC_STANDIN_DIR . '/app/Backend/view/panel.php', $parameters );
	}
}
