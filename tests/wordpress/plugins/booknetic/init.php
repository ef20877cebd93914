<?php
/**
 * Plugin Name: Booknetic (test stand-in)
 * Description: A small stand-in for FS Code's Booknetic core, for the SMS campaigns tests. It implements the public API add-ons use (AddonLoader, Capabilities, Permission, Route, Controller, MenuUI, Helper, the bkntc_cronjob tick) with Booknetic 5.2.2's class names, signatures, hooks, option names and request flow. Booknetic itself is not public.
 * Version: 5.2.2
 * Author: bkntc-sms tests
 * Text Domain: booknetic
 *
 * @package BookneticApp
 */

defined( 'ABSPATH' ) || exit;

define( 'BKNTC_STANDIN_FILE', __FILE__ );
define( 'BKNTC_STANDIN_DIR', __DIR__ );

spl_autoload_register(
	static function ( $class_name ) {
		$prefix = 'BookneticApp\\';
		if ( 0 !== strpos( $class_name, $prefix ) ) {
			return;
		}
		$relative = str_replace( '\\', '/', substr( $class_name, strlen( $prefix ) ) );
		$file     = __DIR__ . '/app/' . $relative . '.php';
		if ( is_file( $file ) ) {
			require_once $file;
		}
	}
);

register_activation_hook(
	__FILE__,
	static function () {
		add_role( 'booknetic_staff', 'Booknetic Staff', array( 'read' => true ) );
	}
);

\BookneticApp\Providers\Core\Bootstrap::boot();
