<?php
/**
 * Booknetic's text domains for core and add-ons.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Backend\Settings\Helpers;

defined( 'ABSPATH' ) || exit;

/**
 * As in 5.2.2, an add-on's text domain is its slug and its files are <slug>/languages/
 * <slug>-<locale>.mo (or WP_LANG_DIR/plugins/). The real service also switches to a
 * tenant's own translation folder ("<tenant>/<slug>"); the stand-in does not.
 */
class LocalizationService {

	/**
	 * (Re)load a text domain the way core does for itself and for each add-on.
	 *
	 * @param string $slug Plugin folder (the text domain).
	 */
	public static function loadTextdomain( $slug = 'booknetic' ) {
		$domain = self::getTextdomain( $slug );
		unload_textdomain( $domain );
		load_plugin_textdomain( $domain, false, $slug . '/languages' );
	}

	/**
	 * The text domain of a plugin folder.
	 *
	 * @param string $slug Plugin folder.
	 * @return string
	 */
	public static function getTextdomain( $slug = 'booknetic' ): string {
		return (string) $slug;
	}
}
