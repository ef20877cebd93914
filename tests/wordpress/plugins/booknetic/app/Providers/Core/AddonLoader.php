<?php
/**
 * Base class of every Booknetic add-on.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * An add-on: a plugin that returns an instance of a subclass from the bkntc_addons_load
 * filter. The constructor hooks the init*() methods on Booknetic's hooks.
 */
abstract class AddonLoader {

	/**
	 * Hook the add-on's entry points.
	 */
	public function __construct() {
		add_action( 'bkntc_init', array( $this, 'init' ) );
		add_action( 'bkntc_backend', array( $this, 'initBackend' ) );
		add_action( 'bkntc_frontend', array( $this, 'initFrontend' ) );
		add_action( 'bkntcsaas_init', array( $this, 'initSaaS' ) );
		add_action( 'bkntcsaas_backend', array( $this, 'initSaaSBackend' ) );
		add_action( 'bkntcsaas_frontend', array( $this, 'initSaaSFrontend' ) );
	}

	/** Runs on bkntc_init (every request). */
	public function init() {
	}

	/** Runs on bkntc_backend (admin requests). */
	public function initBackend() {
	}

	/** Runs on bkntc_frontend (non-admin requests). */
	public function initFrontend() {
	}

	/** Runs on bkntcsaas_init (SaaS only). */
	public function initSaaS() {
	}

	/** Runs on bkntcsaas_backend (SaaS admin requests). */
	public function initSaaSBackend() {
	}

	/** Runs on bkntcsaas_frontend (SaaS non-admin requests). */
	public function initSaaSFrontend() {
	}

	/**
	 * The add-on's slug: its plugin folder name.
	 *
	 * @return string
	 */
	public function getAddonSlug() {
		$file     = ( new \ReflectionClass( $this ) )->getFileName();
		$basename = plugin_basename( $file );
		if ( false === strpos( $basename, '/' ) || 0 === strpos( $basename, '/' ) ) {
			// Not under WP_PLUGIN_DIR (or not a registered symlink): the folder next to it.
			return basename( dirname( $file ) );
		}
		return strtok( $basename, '/' );
	}

	/**
	 * The add-on's version, from its main plugin file's header.
	 *
	 * @return string
	 */
	public function getVersion() {
		$dir = trailingslashit( WP_PLUGIN_DIR ) . $this->getAddonSlug();
		foreach ( (array) glob( $dir . '/*.php' ) as $file ) {
			$data = get_file_data( $file, array( 'name' => 'Plugin Name', 'version' => 'Version' ) );
			if ( '' !== $data['name'] ) {
				return '' !== $data['version'] ? $data['version'] : '1.0.0';
			}
		}
		return '1.0.0';
	}

	/**
	 * URL of a file in the add-on's folder.
	 *
	 * @param string $path Path relative to the add-on folder.
	 * @return string
	 */
	public function loadAsset( $path ) {
		return plugins_url( $this->getAddonSlug() . '/' . ltrim( $path, '/' ) );
	}
}
