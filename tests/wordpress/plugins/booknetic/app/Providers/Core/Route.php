<?php
/**
 * Booknetic's module routes: GET pages and POST (ajax) actions, as in 5.2.2's AbstractRoute.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * Route::get('<module>', ControllerClass::class) serves
 * admin.php?page=booknetic&module=<module>&action=<method> (default dashboard / index);
 * Route::post('<module>', AjaxClass::class, [actions]) serves POSTs to
 * admin.php?page=booknetic&ajax=1 with module and action in the body. The target is a class
 * name or an object; Route::init() gives it modulesDir and prefix, calls the action and
 * echoes the result (arrays as JSON). A CapabilitiesException becomes Booknetic's JSON
 * error; an unknown module or action throws (Backend turns that into its 404).
 */
class Route {

	const DEFAULT_MODULE = 'dashboard';
	const DEFAULT_ACTION = 'index';

	/**
	 * Routes, GET|POST => module => [controller, allowed actions].
	 *
	 * @var array<string, array<string, array{controller: mixed, actions: array}>>
	 */
	private static $routes = array(
		'GET'  => array(),
		'POST' => array(),
	);

	/**
	 * Register a page.
	 *
	 * @param string $route           Module slug.
	 * @param mixed  $controller      Controller class or object.
	 * @param array  $allowed_actions Allowed actions (empty = any public method).
	 */
	public static function get( $route, $controller, $allowed_actions = array() ) {
		self::$routes['GET'][ $route ] = array(
			'controller' => $controller,
			'actions'    => (array) $allowed_actions,
		);
	}

	/**
	 * Register ajax actions.
	 *
	 * @param string $route           Module slug.
	 * @param mixed  $controller      Ajax class or object.
	 * @param array  $allowed_actions Allowed actions (empty = any public method).
	 */
	public static function post( $route, $controller, $allowed_actions = array() ) {
		self::$routes['POST'][ $route ] = array(
			'controller' => $controller,
			'actions'    => (array) $allowed_actions,
		);
	}

	/**
	 * Whether a route exists (stand-in helper for tests).
	 *
	 * @param string $method get|post.
	 * @param string $module Module slug.
	 * @return bool
	 */
	public static function has( $method, $module ) {
		return isset( self::$routes[ strtoupper( $method ) ][ $module ] );
	}

	/**
	 * Run the route of this request and echo its result.
	 *
	 * @throws \Exception When there is no such module or action.
	 */
	public static function init() {
		$module = static::getCurrentModule();
		$action = static::getCurrentAction();
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- Booknetic's own rule for picking the table.
		$table = isset( $_POST['action'] ) ? 'POST' : 'GET';
		if ( ! isset( self::$routes[ $table ][ $module ] ) ) {
			throw new \Exception();
		}
		$route      = self::$routes[ $table ][ $module ];
		$controller = is_string( $route['controller'] ) ? new $route['controller']() : $route['controller'];
		if ( $controller instanceof Controller ) {
			$controller->modulesDir = Backend::MODULES_DIR; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			$controller->prefix     = 'bkntc_';
		}
		if ( ( $route['actions'] && ! in_array( $action, $route['actions'], true ) ) || ! is_callable( array( $controller, $action ) ) ) {
			throw new \Exception();
		}
		try {
			$result = $controller->$action();
		} catch ( CapabilitiesException $e ) {
			$result = Helper::response( false, $e->getMessage(), true );
		}
		$result = apply_filters( "bkntc_after_request_{$module}_{$action}", $result );
		echo is_array( $result ) ? wp_json_encode( $result ) : $result; // phpcs:ignore WordPress.Security.EscapeOutput -- the module's own output.
	}

	/**
	 * The module of this request (POST body for ajax, else the query).
	 *
	 * @return string
	 */
	public static function getCurrentModule() {
		$method = static::isAjax() ? '_post' : '_get';
		$module = preg_replace( '/[^a-zA-Z0-9\-_]/', '', (string) Helper::$method( 'module', static::DEFAULT_MODULE, 'string' ) );
		return '' !== $module ? strtolower( $module ) : static::DEFAULT_MODULE;
	}

	/**
	 * The action of this request; names starting with _ and the view helpers are not actions.
	 *
	 * @return string
	 */
	public static function getCurrentAction() {
		$method = static::isAjax() ? '_post' : '_get';
		$action = preg_replace( '/[^a-zA-Z0-9\-_]/', '', (string) Helper::$method( 'action', static::DEFAULT_ACTION, 'string' ) );
		return ( '' === $action || 0 === strpos( $action, '_' ) || in_array( $action, array( 'view', 'modalView', 'tabView' ), true ) ) ? static::DEFAULT_ACTION : $action;
	}

	/**
	 * Whether this is a Booknetic ajax call (ajax=1 in the query).
	 *
	 * @return bool
	 */
	public static function isAjax() {
		return 1 === (int) Helper::_get( 'ajax', 0, 'int' );
	}
}
