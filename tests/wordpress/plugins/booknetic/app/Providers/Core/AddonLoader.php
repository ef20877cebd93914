<?php
/**
 * Base class of every Booknetic add-on, with Booknetic 5.2.2's signatures.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Backend\Settings\Helpers\LocalizationService;
use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * An add-on: a plugin that returns an instance of a subclass from the bkntc_addons_load
 * filter. As in 5.2.2: the constructor reads the licence server's verdict on the add-on
 * (option bkntc_synced_addons) and, unless it says "block", loads the add-on's text domain
 * (slug, <slug>/languages) and hooks the init*() methods. getAddonSlug() and loadAsset() are
 * final and static; getVersion() is static and reads only <slug>/init.php, so an add-on whose
 * main file has another name logs a file_get_contents() warning each time core asks.
 */
class AddonLoader {

	/**
	 * The licence server's entry for this add-on in bkntc_synced_addons.
	 *
	 * @var array
	 */
	protected array $syncedData = array(); // phpcs:ignore WordPress.NamingConventions.ValidVariableName

	/**
	 * Read the sync data, load the text domain and hook the add-on's entry points.
	 */
	public function __construct() {
		$this->initAddonData();
		if ( $this->shouldBlock() ) {
			return;
		}
		LocalizationService::loadTextdomain( static::getAddonSlug() );

		add_action( 'bkntc_init', array( $this, 'init' ) );
		add_action( 'bkntc_backend', array( $this, 'initBackend' ) );
		add_action( 'bkntc_frontend', array( $this, 'initFrontend' ) );
		add_action( 'bkntcsaas_init', array( $this, 'initSaaS' ) );
		add_action( 'bkntcsaas_backend', array( $this, 'initSaaSBackend' ) );
		add_action( 'bkntcsaas_frontend', array( $this, 'initSaaSFrontend' ) );
	}

	/**
	 * Whether the licence server told Booknetic to block this add-on.
	 *
	 * @return bool
	 */
	public function shouldBlock(): bool {
		return ! empty( $this->syncedData['action'] ) && 'block' === $this->syncedData['action']; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}

	/**
	 * The text domain Booknetic uses for the add-on (its slug).
	 *
	 * @return string
	 */
	final public static function getAddonTextDomain() {
		return LocalizationService::getTextdomain( static::getAddonSlug() );
	}

	/**
	 * The first path segment of plugin_basename() of the subclass's file: its plugin folder.
	 *
	 * @return string
	 */
	final public static function getAddonSlug() {
		$file       = ( new \ReflectionClass( get_called_class() ) )->getFileName();
		$partitions = explode( '/', plugin_basename( $file ) );
		return reset( $partitions );
	}

	/**
	 * URL of a file in the add-on's folder; .js/.css get ?v=<plugin header Version>.
	 *
	 * @param string $asset_url Path relative to the add-on folder.
	 * @return string
	 */
	final public static function loadAsset( $asset_url ) {
		if ( preg_match( '/\.(js|css)$/i', $asset_url ) ) {
			if ( ! function_exists( 'get_plugins' ) ) {
				require_once ABSPATH . 'wp-admin/includes/plugin.php';
			}
			$plugins    = get_plugins( DIRECTORY_SEPARATOR . self::getAddonSlug() );
			$plugin     = reset( $plugins );
			$asset_url .= '?v=' . ( isset( $plugin['Version'] ) ? $plugin['Version'] : uniqid() );
		}
		return Helper::assets( $asset_url, self::getAddonSlug(), true );
	}

	/**
	 * The add-on's code version: the Version header of <slug>/init.php (core compares it with
	 * bkntc_addon_<slug>_version on every request and asks the licence server for migrations
	 * when it is newer).
	 *
	 * @return string
	 */
	public static function getVersion() {
		$data = get_file_data( WP_PLUGIN_DIR . DIRECTORY_SEPARATOR . static::getAddonSlug() . DIRECTORY_SEPARATOR . 'init.php', array( 'Version' => 'Version' ), false );
		return isset( $data['Version'] ) ? $data['Version'] : '1.0.0';
	}

	/** Runs on bkntc_init (every request). */
	public function init() {
	}

	/** Runs on bkntc_backend (the Booknetic admin page only). */
	public function initBackend() {
	}

	/** Runs on bkntc_frontend (front end and every admin-ajax.php request). */
	public function initFrontend() {
	}

	/** Runs on bkntcsaas_init (SaaS only). */
	public function initSaaS() {
	}

	/** Runs on bkntcsaas_backend (the SaaS owner's panel). */
	public function initSaaSBackend() {
	}

	/** Runs on bkntcsaas_frontend (SaaS front end and ajax). */
	public function initSaaSFrontend() {
	}

	/**
	 * DI scanning of the add-on (5.2.2); nothing to scan in the stand-in.
	 */
	public function initDependencies(): void {
	}

	/**
	 * Attribute REST routes under booknetic/v1 (5.2.2); none in the stand-in.
	 */
	public function initRestRoutes(): void {
	}

	/**
	 * This add-on's entry of the option bkntc_synced_addons (slug => ['action' => ...]).
	 */
	private function initAddonData() {
		$synced = Helper::getOption( 'synced_addons', array(), false );
		if ( empty( $synced ) || ! is_array( $synced ) || empty( $synced[ static::getAddonSlug() ] ) ) {
			return;
		}
		$this->syncedData = $synced[ static::getAddonSlug() ]; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}
}
