<?php
/**
 * WordPress configuration of one test site, written by tests/wp_support.py from
 * tests/wordpress/config-template.php to /etc/wordpress/config-<name>.php (Debian's
 * wp-config.php loads it; see router.php) and deleted when the site stops. Each quoted
 * placeholder (quotes included) becomes a PHP literal; the EXTRA comment becomes defines.
 *
 * @package BkntcSmsTests
 */

define( 'DB_NAME', '@@DB_NAME@@' );
define( 'DB_USER', '@@DB_USER@@' );
define( 'DB_PASSWORD', '@@DB_PASSWORD@@' );
define( 'DB_HOST', '@@DB_HOST@@' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
$table_prefix = '@@TABLE_PREFIX@@';

define( 'AUTH_KEY', '@@AUTH_KEY@@' );
define( 'SECURE_AUTH_KEY', '@@SECURE_AUTH_KEY@@' );
define( 'LOGGED_IN_KEY', '@@LOGGED_IN_KEY@@' );
define( 'NONCE_KEY', '@@NONCE_KEY@@' );
define( 'AUTH_SALT', '@@AUTH_SALT@@' );
define( 'SECURE_AUTH_SALT', '@@SECURE_AUTH_SALT@@' );
define( 'LOGGED_IN_SALT', '@@LOGGED_IN_SALT@@' );
define( 'NONCE_SALT', '@@NONCE_SALT@@' );

define( 'WP_HOME', '@@URL@@' );
define( 'WP_SITEURL', '@@URL@@' );
define( 'WP_CONTENT_DIR', '@@CONTENT_DIR@@' );
define( 'WP_CONTENT_URL', '@@URL@@' . '/wp-content' );

define( 'DISABLE_WP_CRON', '@@DISABLE_WP_CRON@@' );
define( 'FS_METHOD', 'direct' );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_ENVIRONMENT_TYPE', 'local' );
// Only this site and localhost: no network in CI, and no slow DNS failures.
define( 'WP_HTTP_BLOCK_EXTERNAL', '@@BLOCK_EXTERNAL@@' );

// Errors never go into pages or JSON: to WP_DEBUG_LOG (a file of the test's temp dir) once
// WordPress has set up debug mode, to PHP's log (the php -S log file) before that.
define( 'WP_DEBUG', '@@WP_DEBUG@@' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_DEBUG_LOG', '@@WP_DEBUG_LOG@@' );

// The Booknetic stand-in's licence server (a loopback stub that counts calls) and the
// Font Awesome 5.15.4 stylesheet its layout links, as the real layout does.
define( 'BKNTC_STANDIN_FSCODE_API', '@@FSCODE_API@@' );
define( 'BKNTC_STANDIN_FONTAWESOME_URL', '@@FONTAWESOME_URL@@' );

/* @@EXTRA@@ */
