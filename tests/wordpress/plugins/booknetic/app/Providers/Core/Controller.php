<?php
/**
 * Base class of Booknetic's page controllers and ajax classes, with 5.2.2's signatures.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * view() is final protected: it resolves the view (an existing file, or view/<name>.php next
 * to the controller class, dots as folders) and require_once's Booknetic's layout
 * (<modulesDir>Base/view/<extends>.php), which require_once's the view inside it. There is
 * no extract(): the view sees $parameters (and $this). With $extends === false the view is
 * included alone. response() returns Booknetic's answer array; it does not send it.
 */
class Controller {

	/**
	 * Booknetic's Backend/ folder (set by Route::init()).
	 *
	 * @var string
	 */
	public $modulesDir; // phpcs:ignore WordPress.NamingConventions.ValidVariableName

	/**
	 * Hook prefix (bkntc_).
	 *
	 * @var string
	 */
	public $prefix;

	/**
	 * view/<name>.php next to the called controller class.
	 *
	 * @param string $view_name View name (dots are folders).
	 * @return string
	 */
	final protected static function getViewFilePath( $view_name ) {
		$class_file = ( new \ReflectionClass( get_called_class() ) )->getFileName();
		return plugin_dir_path( $class_file ) . 'view' . DIRECTORY_SEPARATOR . str_replace( '.', DIRECTORY_SEPARATOR, $view_name ) . '.php';
	}

	/**
	 * Render a view inside Booknetic's layout.
	 *
	 * @param string      $viewName      File or view name.
	 * @param array       $parameters    What the view reads as $parameters.
	 * @param string|bool $extends       Layout name under Base/view, or false for none.
	 * @param bool        $enqueeAssets  Fire <prefix>enqueue_assets first (modals do).
	 */
	final protected function view( $viewName, $parameters = array(), $extends = 'index', $enqueeAssets = false ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		$child_view_file = file_exists( $viewName ) ? $viewName : static::getViewFilePath( $viewName ); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		if ( ! file_exists( $child_view_file ) ) {
			$response = $this->response( false, htmlspecialchars( $viewName ) . ' - view not exists!' ); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			echo $response['error_msg']; // phpcs:ignore WordPress.Security.EscapeOutput
			return;
		}
		// The layout and the view share this scope, as in Booknetic: these names are what
		// they read.
		$childViewFile = $child_view_file; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		$fullViewPath  = false === $extends ? $child_view_file : $this->modulesDir . 'Base' . DIRECTORY_SEPARATOR . 'view' . DIRECTORY_SEPARATOR . $extends . '.php'; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		$currentModule = Route::getCurrentModule(); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		$currentAction = Route::getCurrentAction(); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		if ( $enqueeAssets ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			do_action( $this->prefix . 'enqueue_assets', $currentModule, $currentAction, $fullViewPath ); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		}
		require_once $fullViewPath; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}

	/**
	 * A modal: the view without the layout, answered as {"status":"ok","html":...}.
	 *
	 * @param string $view_name  View name.
	 * @param array  $parameters Parameters.
	 * @return array
	 */
	final protected function modalView( $view_name, $parameters = array() ) {
		if ( ! file_exists( $view_name ) ) {
			$view_name = "modal.{$view_name}";
		}
		ob_start();
		$this->view( $view_name, $parameters, false, true );
		return $this->response( true, array( 'html' => htmlspecialchars( (string) ob_get_clean() ) ) );
	}

	/**
	 * Booknetic's answer array ({"status": "ok", ...} or {"status": "error", "error_msg": ...}).
	 *
	 * @param bool         $status Success.
	 * @param array|string $arr    Payload, or the error message.
	 * @return array
	 */
	final protected function response( $status, $arr = array() ) {
		return Helper::response( $status, $arr, true );
	}
}
