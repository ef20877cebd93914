<?php
/**
 * Harness only: names the caller of WordPress's "doing it wrong" and deprecation notices.
 *
 * Those notices are raised inside wp-includes, so the PHP log line names a core file. This
 * logs one more line naming the first file outside WordPress core on the call stack, so a
 * test can tell which plugin caused them (tests/wp_support.py, plugin_messages()).
 *
 * @package BkntcSmsTests
 */

/**
 * Log the first non-core caller of a WordPress notice.
 *
 * @param string $kind What WordPress complained about.
 * @param string $what The function, hook or file.
 */
function bkntc_harness_log_caller( $kind, $what ) {
	// phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_debug_backtrace -- the point of this file.
	foreach ( debug_backtrace( DEBUG_BACKTRACE_IGNORE_ARGS ) as $frame ) {
		$file = isset( $frame['file'] ) ? $frame['file'] : '';
		if ( '' === $file || __FILE__ === $file || 0 === strpos( $file, ABSPATH ) ) {
			continue;
		}
		// phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log
		error_log( sprintf( 'BKNTC-HARNESS %s %s called from %s:%d', $kind, $what, $file, isset( $frame['line'] ) ? $frame['line'] : 0 ) );
		return;
	}
}

foreach ( array( 'doing_it_wrong_run', 'deprecated_function_run', 'deprecated_argument_run', 'deprecated_hook_run', 'deprecated_file_included', 'deprecated_constructor_run' ) as $bkntc_harness_hook ) {
	add_action(
		$bkntc_harness_hook,
		static function ( $what ) use ( $bkntc_harness_hook ) {
			bkntc_harness_log_caller( $bkntc_harness_hook, is_string( $what ) ? $what : '' );
		}
	);
}
