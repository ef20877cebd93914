<?php
/**
 * Booknetic's per-request migration check for add-ons.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Common;

use BookneticApp\Providers\Core\Bootstrap;
use BookneticApp\Providers\FSCode\Clients\FSCodeAPIClient;
use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * fetchAndRunAddonsMigrationData() runs on every request (Bootstrap::initApp): for each
 * add-on, `$addon::getVersion()` against the option bkntc_addon_<slug>_version ('0.0.0'
 * when missing); when the code is newer it POSTs <product>/addons/get_migrations/<slug>
 * and stores the version only if that request succeeded. So an add-on the licence server
 * does not know, without the option, costs one licence request on every page view.
 * (Core's own fetchAndRunMigrationData('booknetic') is left out: the stand-in has no core
 * migrations, and the sample data carries the installed core version.)
 */
class PluginService {

	/**
	 * The add-on migration check of 5.2.2.
	 */
	public function fetchAndRunAddonsMigrationData(): void {
		$product = Helper::isSaaSVersion() ? 'booknetic-saas' : 'booknetic';
		foreach ( Bootstrap::$addons as $addon ) {
			$slug      = $addon::getAddonSlug();
			$current   = $addon::getVersion();
			$installed = Helper::getOption( "addon_{$slug}_version", '0.0.0', false );
			if ( ! version_compare( $current, $installed, '>' ) ) {
				continue;
			}
			$response = ( new FSCodeAPIClient() )->requestNew(
				$product . '/addons/get_migrations/' . $slug,
				'POST',
				array(
					'from' => $installed,
					'to'   => $current,
				)
			);
			if ( ! $response['ok'] ) {
				continue;
			}
			Helper::setOption( "addon_{$slug}_version", $current, false );
		}
	}
}
