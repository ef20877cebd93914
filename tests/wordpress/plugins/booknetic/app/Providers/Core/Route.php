<?php
/**
 * Booknetic's module routes: GET pages and POST (ajax) actions.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * Route::get('<module>', Controller::class) serves
 * admin.php?page=booknetic&module=<module>&action=<method> (default action index);
 * Route::post('<module>', Ajax::class, [actions]) serves POSTs to
 * admin.php?page=booknetic&ajax=1 with module and action in the body. A route target is a
 * class name, an object, or a callable (called with the action name).
 */
class Route {

	/**
	 * Routes, method => module => [target, actions].
	 *
	 * @var array<string, array<string, array{target: mixed, actions: array|null}>>
	 */
	private static $routes = array(
		'get'  => array(),
		'post' => array(),
	);

	/**
	 * Register a page.
	 *
	 * @param string     $module  Module slug.
	 * @param mixed      $target  Controller class, object or callable.
	 * @param array|null $actions Allowed actions (null = any public method).
	 */
	public static function get( $module, $target, $actions = null ) {
		self::$routes['get'][ $module ] = array(
			'target'  => $target,
			'actions' => $actions,
		);
	}

	/**
	 * Register ajax actions.
	 *
	 * @param string     $module  Module slug.
	 * @param mixed      $target  Ajax class, object or callable.
	 * @param array|null $actions Allowed actions (null = any public method).
	 */
	public static function post( $module, $target, $actions = null ) {
		self::$routes['post'][ $module ] = array(
			'target'  => $target,
			'actions' => $actions,
		);
	}

	/**
	 * Whether a route exists.
	 *
	 * @param string $method get|post.
	 * @param string $module Module slug.
	 * @return bool
	 */
	public static function has( $method, $module ) {
		return isset( self::$routes[ $method ][ $module ] );
	}

	/**
	 * Modules registered for a method.
	 *
	 * @param string $method get|post.
	 * @return string[]
	 */
	public static function modules( $method ) {
		return array_keys( self::$routes[ $method ] );
	}

	/**
	 * Run a route.
	 *
	 * @param string $method get|post.
	 * @param string $module Module slug.
	 * @param string $action Action name.
	 * @return array{found: bool, result: mixed}
	 */
	public static function dispatch( $method, $module, $action ) {
		$missing = array(
			'found'  => false,
			'result' => null,
		);
		if ( ! self::has( $method, $module ) ) {
			return $missing;
		}
		$route  = self::$routes[ $method ][ $module ];
		$action = '' !== (string) $action ? (string) $action : 'index';
		if ( is_array( $route['actions'] ) && 'index' !== $action && ! in_array( $action, $route['actions'], true ) ) {
			return $missing;
		}
		$target = $route['target'];
		if ( is_string( $target ) && class_exists( $target ) ) {
			$target = new $target();
		}
		if ( is_object( $target ) && ! ( $target instanceof \Closure ) ) {
			if ( 0 === strpos( $action, '_' ) || ! method_exists( $target, $action ) || ! ( new \ReflectionMethod( $target, $action ) )->isPublic() ) {
				return $missing;
			}
			return array(
				'found'  => true,
				'result' => $target->$action(),
			);
		}
		if ( is_callable( $target ) ) {
			return array(
				'found'  => true,
				'result' => call_user_func( $target, $action ),
			);
		}
		return $missing;
	}
}
