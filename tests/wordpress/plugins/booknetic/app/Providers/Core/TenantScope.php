<?php
/**
 * Booknetic's MultiTenant scoping, for the stand-in's own pages.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * In SaaS a tenant table is read with tenant_id = <current tenant>, or tenant_id IS NULL when
 * there is none; a regular install does not filter.
 */
class TenantScope {

	/**
	 * SQL condition (with a leading AND) for a tenant table.
	 *
	 * @param string $column Qualified tenant column.
	 * @return string
	 */
	public static function where( $column = 'tenant_id' ) {
		global $wpdb;
		if ( ! Helper::isSaaSVersion() ) {
			return '';
		}
		$tenant_id = Permission::tenantId();
		if ( null === $tenant_id ) {
			return " AND {$column} IS NULL";
		}
		return $wpdb->prepare( " AND {$column} = %d", $tenant_id ); // phpcs:ignore WordPress.DB.PreparedSQL
	}
}
