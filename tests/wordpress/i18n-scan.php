<?php
/**
 * Lists the string literals, inline HTML and gettext-style calls of PHP files, as JSON
 * (tests/test_bridge_php.py, the "no user-facing string left untranslated" test).
 *
 *   php i18n-scan.php FILE...
 *
 * Each string: file, line, value (the literal's value), kind (string | html), and the
 * innermost function call it is an argument of (call, arg index), if any. Each call: file,
 * line, name (lowercase, no leading backslash) and, per argument, the literals in it.
 *
 * @package BkntcSmsTests
 */

// phpcs:disable -- a test tool.
$bkntc_out = array( 'strings' => array(), 'calls' => array() );
$bkntc_opening = array( '(', '[', '{' );
$bkntc_named = array( T_STRING, T_ARRAY, T_ISSET, T_EMPTY, T_EXIT, T_NAME_QUALIFIED, T_NAME_FULLY_QUALIFIED );
foreach ( array_slice( $argv, 1 ) as $bkntc_file ) {
	$bkntc_stack = array();
	$bkntc_prev  = null;
	$bkntc_line  = 1;
	foreach ( token_get_all( file_get_contents( $bkntc_file ) ) as $bkntc_t ) {
		$bkntc_id   = is_array( $bkntc_t ) ? $bkntc_t[0] : null;
		$bkntc_text = is_array( $bkntc_t ) ? $bkntc_t[1] : $bkntc_t;
		if ( is_array( $bkntc_t ) ) {
			$bkntc_line = $bkntc_t[2];
		}
		if ( in_array( $bkntc_id, array( T_WHITESPACE, T_COMMENT, T_DOC_COMMENT ), true ) ) {
			continue;
		}
		$bkntc_top = count( $bkntc_stack ) - 1;
		if ( in_array( $bkntc_text, $bkntc_opening, true ) || T_CURLY_OPEN === $bkntc_id || T_DOLLAR_OPEN_CURLY_BRACES === $bkntc_id ) {
			$bkntc_name = null;
			if ( '(' === $bkntc_text && is_array( $bkntc_prev ) && in_array( $bkntc_prev[0], $bkntc_named, true ) ) {
				$bkntc_name = ltrim( strtolower( $bkntc_prev[1] ), '\\' );
			}
			$bkntc_stack[] = array( 'name' => $bkntc_name, 'line' => $bkntc_line, 'args' => array( array() ) );
		} elseif ( in_array( $bkntc_text, array( ')', ']', '}' ), true ) ) {
			$bkntc_frame = array_pop( $bkntc_stack );
			if ( $bkntc_frame && null !== $bkntc_frame['name'] ) {
				$bkntc_out['calls'][] = array( 'file' => $bkntc_file, 'line' => $bkntc_frame['line'], 'name' => $bkntc_frame['name'], 'args' => $bkntc_frame['args'] );
			}
		} elseif ( ',' === $bkntc_text && $bkntc_stack ) {
			$bkntc_stack[ $bkntc_top ]['args'][] = array();
		} elseif ( in_array( $bkntc_id, array( T_CONSTANT_ENCAPSED_STRING, T_ENCAPSED_AND_WHITESPACE, T_INLINE_HTML ), true ) ) {
			$bkntc_value = T_CONSTANT_ENCAPSED_STRING === $bkntc_id ? eval( 'return ' . $bkntc_text . ';' ) : $bkntc_text;
			$bkntc_frame = $bkntc_stack ? $bkntc_stack[ $bkntc_top ] : null;
			$bkntc_out['strings'][] = array(
				'file'  => $bkntc_file,
				'line'  => $bkntc_line,
				'value' => $bkntc_value,
				'kind'  => T_INLINE_HTML === $bkntc_id ? 'html' : 'string',
				'call'  => $bkntc_frame ? $bkntc_frame['name'] : null,
				'arg'   => $bkntc_frame ? count( $bkntc_frame['args'] ) - 1 : null,
			);
			if ( $bkntc_stack ) {
				$bkntc_stack[ $bkntc_top ]['args'][ count( $bkntc_stack[ $bkntc_top ]['args'] ) - 1 ][] = $bkntc_value;
			}
		} elseif ( $bkntc_stack ) {
			$bkntc_stack[ $bkntc_top ]['args'][ count( $bkntc_stack[ $bkntc_top ]['args'] ) - 1 ][] = null;
		}
		$bkntc_prev = $bkntc_t;
	}
}
echo json_encode( $bkntc_out );
