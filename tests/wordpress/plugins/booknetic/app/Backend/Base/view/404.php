<?php
/**
 * Booknetic's 404 page body.
 *
 * @package BookneticApp
 */

defined( 'ABSPATH' ) || exit;
?>
<div class="bkntc-not-found" id="bkntc-not-found"><h2>404</h2><p>Page not found or access denied!</p></div>
