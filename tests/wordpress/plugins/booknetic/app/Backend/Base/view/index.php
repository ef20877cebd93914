<?php
/**
 * Booknetic's layout: a standalone HTML page (5.2.2's Backend/Base/view/index.php is one
 * too: no wp_head(), no admin bar). It loads Font Awesome 5.15.4 — the version the real
 * layout links — and fires bkntc_enqueue_assets(module, action, layout) in <head>, the only
 * place an add-on can print its scripts and styles here. Menu titles and icons are printed
 * as given, without escaping, as the real layout does. Required by Controller::view() (or
 * Backend for the 404 page) with $childViewFile, $currentModule, $currentAction,
 * $fullViewPath and $parameters in scope. Ids (booknetic_panel, bkntc-menu-<slug>,
 * bkntc-main) are the stand-in's own, for tests.
 *
 * @package BookneticApp
 *
 * @var string $childViewFile
 * @var string $currentModule
 * @var string $currentAction
 * @var string $fullViewPath
 * @var array  $parameters
 */

use BookneticApp\Providers\Core\Permission;
use BookneticApp\Providers\Helpers\Helper;
use BookneticApp\Providers\UI\MenuUI;

defined( 'ABSPATH' ) || exit;

// phpcs:disable WordPress.Security.EscapeOutput.OutputNotEscaped,WordPress.WP.EnqueuedResources -- Booknetic's layout, as it is.
?>
<!DOCTYPE html>
<html>
<head>
	<title>Booknetic</title>
	<meta charset="utf-8">
	<meta name="viewport" content="width=device-width, initial-scale=1">
	<?php if ( defined( 'BKNTC_STANDIN_FONTAWESOME_URL' ) ) : ?>
	<link rel="stylesheet" href="<?php echo esc_url( BKNTC_STANDIN_FONTAWESOME_URL ); ?>" type="text/css">
	<?php endif; ?>
	<link rel="stylesheet" href="<?php echo esc_url( plugins_url( 'assets/panel.css', BKNTC_STANDIN_FILE ) . '?v=' . Helper::getVersion() ); ?>" type="text/css">
	<?php do_action( 'bkntc_enqueue_assets', $currentModule, $currentAction, $fullViewPath ); ?>
</head>
<body>
<div id="booknetic_panel" class="bkntc-panel" data-module="<?php echo esc_attr( $currentModule ); ?>" data-tenant-id="<?php echo esc_attr( (string) Permission::tenantId() ); ?>" data-saas="<?php echo Helper::isSaaSVersion() ? '1' : '0'; ?>">
	<nav id="bkntc-left-menu" class="bkntc-left-menu left_side_menu">
		<div class="bkntc-logo">Booknetic</div>
		<ul class="l_m_nav">
		<?php foreach ( MenuUI::getItems( MenuUI::MENU_TYPE_LEFT ) as $bkntc_menu ) : ?>
			<li class="l_m_nav_item<?php echo $bkntc_menu->isActive() ? ' active' : ''; ?>" data-module="<?php echo esc_attr( $bkntc_menu->getSlug() ); ?>">
				<a id="bkntc-menu-<?php echo esc_attr( $bkntc_menu->getSlug() ); ?>" href="<?php echo $bkntc_menu->getLink(); ?>" class="l_m_nav_item_link">
					<i class="l_m_nav_item_icon <?php echo $bkntc_menu->getIcon(); ?>"></i>
					<span class="l_m_nav_item_text bkntc-menu-title"><?php echo $bkntc_menu->getTitle(); ?></span>
				</a>
			</li>
			<?php foreach ( $bkntc_menu->getSubItems() as $bkntc_sub ) : ?>
			<li class="l_m_nav_item is_sub"><a id="bkntc-menu-<?php echo esc_attr( $bkntc_sub->getSlug() ); ?>" href="<?php echo $bkntc_sub->getLink(); ?>" class="l_m_nav_item_link"><i class="l_m_nav_item_icon <?php echo $bkntc_sub->getIcon(); ?>"></i> <span class="l_m_nav_item_text"><?php echo $bkntc_sub->getTitle(); ?></span></a></li>
			<?php endforeach; ?>
		<?php endforeach; ?>
		</ul>
	</nav>
	<div class="bkntc-body">
		<header id="bkntc-top-menu" class="bkntc-top-menu top_side_menu">
			<?php foreach ( MenuUI::getItems( MenuUI::MENU_TYPE_TOP_RIGHT ) as $bkntc_menu ) : ?>
			<a id="bkntc-top-menu-<?php echo esc_attr( $bkntc_menu->getSlug() ); ?>" href="<?php echo $bkntc_menu->getLink(); ?>"><i class="<?php echo $bkntc_menu->getIcon(); ?>"></i> <?php echo $bkntc_menu->getTitle(); ?></a>
			<?php endforeach; ?>
			<a id="bkntc-logout" href="<?php echo esc_url( wp_logout_url( home_url() ) ); ?>">Log out</a>
		</header>
		<main id="bkntc-main" class="bkntc-main main_wrapper" data-module="<?php echo esc_attr( $currentModule ); ?>">
			<?php
			if ( isset( $childViewFile ) && file_exists( $childViewFile ) ) {
				require_once $childViewFile;
			}
			?>
		</main>
	</div>
</div>
</body>
</html>
