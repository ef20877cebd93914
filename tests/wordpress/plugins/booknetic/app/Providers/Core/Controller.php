<?php
/**
 * Base class of Booknetic's page controllers and ajax classes.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * view() renders a PHP view file; response() answers an ajax call with Booknetic's JSON.
 */
class Controller {

	/**
	 * Render a view: an absolute file, or a name looked up in view/ next to the controller.
	 * The view sees $parameters and each parameter as a variable.
	 *
	 * @param string $path       File or view name.
	 * @param array  $parameters Variables.
	 * @throws \RuntimeException When the file does not exist.
	 */
	public function view( $path, $parameters = array() ) {
		$file = $this->find_view( $path );
		if ( null === $file ) {
			throw new \RuntimeException( 'Booknetic view not found: ' . $path );
		}
		( static function ( $__file, $parameters ) {
			extract( $parameters, EXTR_SKIP ); // phpcs:ignore WordPress.PHP.DontExtract
			include $__file;
		} )( $file, (array) $parameters );
	}

	/**
	 * Same as view() (Booknetic renders modals through it).
	 *
	 * @param string $path       File or view name.
	 * @param array  $parameters Variables.
	 */
	public function modalView( $path, $parameters = array() ) {
		$this->view( $path, $parameters );
	}

	/**
	 * Booknetic's ajax answer: {"status": "ok", ...} or {"status": "error", "error_msg": ...}.
	 * Sent and exits, unless $return_result.
	 *
	 * @param bool         $status        Success.
	 * @param array|string $data          Payload, or the error message.
	 * @param bool         $return_result Return the array instead of sending it.
	 * @return array
	 */
	protected function response( $status, $data = array(), $return_result = false ) {
		$data = is_array( $data ) ? $data : ( is_string( $data ) ? array( 'error_msg' => $data ) : array() );
		if ( $status ) {
			$data['status'] = 'ok';
		} else {
			$data['status'] = 'error';
			if ( ! isset( $data['error_msg'] ) ) {
				$data['error_msg'] = 'Error!';
			}
		}
		if ( $return_result ) {
			return $data;
		}
		wp_send_json( $data );
	}

	/**
	 * Resolve a view path.
	 *
	 * @param string $path File or view name.
	 * @return string|null
	 */
	private function find_view( $path ) {
		if ( is_file( $path ) ) {
			return $path;
		}
		$dir = dirname( ( new \ReflectionClass( $this ) )->getFileName() ) . '/view/';
		foreach ( array( $dir . $path . '.php', $dir . $path ) as $candidate ) {
			if ( is_file( $candidate ) ) {
				return $candidate;
			}
		}
		return null;
	}
}
