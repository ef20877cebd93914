<?php
/**
 * Plugin Name: Booknetic SaaS (test stand-in)
 * Description: Stand-in for FS Code's Booknetic SaaS: its presence makes Booknetic a SaaS install (Helper::isSaaSVersion()), and it gates tenant capabilities and limits by the tenant's plan (wp_bkntc_plans.permissions).
 * Version: 3.1.0
 * Author: bkntc-sms tests
 * Text Domain: booknetic-saas
 *
 * @package BookneticSaaS
 */

defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/app/Providers/Core/Bootstrap.php';
require_once __DIR__ . '/app/Providers/Core/Config.php';
require_once __DIR__ . '/app/Providers/Helpers/Helper.php';

register_activation_hook(
	__FILE__,
	static function () {
		add_role( 'booknetic_saas_tenant', 'Booknetic SaaS Tenant', array( 'read' => true ) );
	}
);

\BookneticSaaS\Providers\Core\Bootstrap::boot();
